package io.itemfleet.worker;

import java.util.List;

/**
 * The Redis keys and settings of one gated attempt, worked out once on the gate thread.
 *
 * @param item the item's key: its running lease ("L|worker|record") and then its done marker
 *     ("D|outcome|record|...")
 * @param cache the cache entry's key, or "" when the type does not cache
 * @param checkpoint the handler's progress checkpoint key
 * @param limits the fleet-wide limits the item counts against
 * @param slots the slots key of each limit (same order)
 * @param rates the rate key of each limit (same order)
 * @param leaseValue who holds the lease: the worker and the record it is running
 */
record GateKeys(
    String item,
    String cache,
    String checkpoint,
    List<TagLimit> limits,
    List<String> slots,
    List<String> rates,
    String leaseValue,
    TaskSettings settings,
    boolean replay) {

  /**
   * True when plain commands suffice (one {@code SET NX GET} before, one {@code SET} after): no
   * cache key, no limits, not a replay.
   */
  boolean fast() {
    return cache.isEmpty() && limits.isEmpty() && !replay;
  }
}
