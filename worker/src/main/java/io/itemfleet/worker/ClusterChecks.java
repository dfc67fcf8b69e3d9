package io.itemfleet.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

/**
 * On a Redis Cluster, the rest of the checks of items that need more than their own key: an item,
 * its cache entry and its limits live on different nodes, so no one script can see them all. After
 * the item's own check took its lease (the pass's main pipeline), this reads the cache entries of
 * those that have one, then takes the limits of those still to run, then releases the leases of
 * those a full limit turned away: at most three more pipelined round trips, only for such items.
 *
 * <p>Each step is safe to repeat when a later one fails and the whole pass is tried again: a lease
 * taken by this very attempt is its own to take again, a limit slot is a set member under its lease
 * value, and a repeated rate token only slows the tag down. The order is the single-server GATE
 * script's: done or leased first, then the cache, then the limits. Gate thread only.
 */
final class ClusterChecks {
  private ClusterChecks() {}

  /**
   * Completes the checks of {@code checks} whose item check said run: each {@code replies} entry
   * becomes the GATE script's verdict for the whole check ({@code cached}, {@code wait} or {@code
   * run}).
   */
  static void complete(GateCalls calls, List<Attempt> checks, List<Supplier<Object>> replies) {
    List<Integer> pending = new ArrayList<>();
    for (int i = 0; i < checks.size(); i++) {
      GateKeys k = checks.get(i).keys;
      if (k.fast() || (k.cache().isEmpty() && k.limits().isEmpty())) continue;
      List<?> reply = (List<?>) replies.get(i).get();
      if ("run".equals(RedisGate.text(reply.get(0)))) pending.add(i);
    }
    if (pending.isEmpty()) return;
    pending = readCaches(calls, checks, replies, pending);
    List<Integer> refused = takeLimits(calls, checks, replies, pending);
    if (refused.isEmpty()) return;
    AbstractPipeline p = calls.pipeline();
    try {
      List<Response<?>> out = new ArrayList<>();
      for (int i : refused) calls.finishCall(p, checks.get(i), null, out);
      p.sync();
      for (Response<?> r : out) GateCalls.read(r::get);
    } finally {
      GateCalls.close(p);
    }
  }

  /** Cache hits become {cached, value}; returns the others. */
  private static List<Integer> readCaches(
      GateCalls calls, List<Attempt> checks, List<Supplier<Object>> replies, List<Integer> in) {
    List<Integer> withCache = new ArrayList<>();
    List<Response<String>> values = new ArrayList<>();
    AbstractPipeline p = calls.pipeline();
    try {
      for (int i : in) {
        if (checks.get(i).keys.cache().isEmpty()) continue;
        withCache.add(i);
        values.add(calls.cacheCall(p, checks.get(i)));
      }
      if (withCache.isEmpty()) return in;
      p.sync();
    } finally {
      GateCalls.close(p);
    }
    List<Integer> out = new ArrayList<>(in);
    for (int j = 0; j < withCache.size(); j++) {
      String v = GateCalls.read(values.get(j)::get);
      if (v == null) continue;
      int i = withCache.get(j);
      List<Object> cached = List.of("cached", v);
      replies.set(i, () -> cached);
      out.remove(Integer.valueOf(i));
    }
    return out;
  }

  /** The limits' verdicts replace the replies; returns those told to wait. */
  private static List<Integer> takeLimits(
      GateCalls calls, List<Attempt> checks, List<Supplier<Object>> replies, List<Integer> in) {
    List<Integer> limited = new ArrayList<>();
    List<Response<Object>> verdicts = new ArrayList<>();
    AbstractPipeline p = calls.pipeline();
    try {
      for (int i : in) {
        if (checks.get(i).keys.limits().isEmpty()) continue;
        limited.add(i);
        verdicts.add(calls.limitsCall(p, checks.get(i)));
      }
      if (limited.isEmpty()) return List.of();
      p.sync();
    } finally {
      GateCalls.close(p);
    }
    List<Integer> refused = new ArrayList<>();
    for (int j = 0; j < limited.size(); j++) {
      Object v = GateCalls.read(verdicts.get(j)::get);
      int i = limited.get(j);
      replies.set(i, () -> v);
      if ("wait".equals(RedisGate.text(((List<?>) v).get(0)))) refused.add(i);
    }
    return refused;
  }
}
