package io.itemfleet.worker;

import java.util.List;

/**
 * The Redis keys and settings of one gated attempt, worked out once on the gate thread.
 *
 * @param done the done marker's key
 * @param lease the running lease's key
 * @param cache the cache entry's key, or "" when the type does not cache
 * @param checkpoint the handler's progress checkpoint key
 * @param limits the fleet-wide limits the item counts against
 * @param slots the slots key of each limit (same order)
 * @param rates the rate key of each limit (same order)
 * @param leaseValue who holds the lease: the worker and the record it is running
 */
record GateKeys(
    String done,
    String lease,
    String cache,
    String checkpoint,
    List<TagLimit> limits,
    List<String> slots,
    List<String> rates,
    String leaseValue,
    TaskSettings settings,
    boolean replay) {}
