package io.itemfleet.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;

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
   * The verdict of a check whose cache entry or limit keys hold another type of value than the
   * fleet writes there (WRONGTYPE), with the keys to name: the item fails alone, its lease given
   * back, instead of failing (and repeating) the whole pass.
   */
  static final String WRONG_TYPE = "wrongtype";

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
    List<Integer> refused = new ArrayList<>(); // leases to give back: turned away or wrong-typed
    pending = readCaches(calls, checks, replies, pending, refused);
    takeLimits(calls, checks, replies, pending, refused);
    if (refused.isEmpty()) return;
    AbstractPipeline p = calls.pipeline();
    try {
      List<Response<?>> out = new ArrayList<>();
      for (int i : refused) calls.finishCall(p, checks.get(i), null, out);
      p.sync();
      for (Response<?> r : out) {
        try {
          GateCalls.read(r::get);
        } catch (JedisDataException e) {
          if (!RedisGate.wrongType(e))
            throw e; // a wrong-typed slots key holds nothing to give back
        }
      }
    } finally {
      GateCalls.close(p);
    }
  }

  /**
   * Cache hits become {cached, value}; a cache entry of another type, {wrongtype, keys}, its lease
   * added to {@code release}. Returns the others.
   */
  private static List<Integer> readCaches(
      GateCalls calls,
      List<Attempt> checks,
      List<Supplier<Object>> replies,
      List<Integer> in,
      List<Integer> release) {
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
      int i = withCache.get(j);
      String v;
      try {
        v = GateCalls.read(values.get(j)::get);
      } catch (JedisDataException e) {
        if (!RedisGate.wrongType(e)) throw e;
        wrongTyped(replies, i, RedisGate.named(List.of(checks.get(i).keys.cache())), release);
        out.remove(Integer.valueOf(i));
        continue;
      }
      if (v == null) continue;
      List<Object> cached = List.of("cached", v);
      replies.set(i, () -> cached);
      out.remove(Integer.valueOf(i));
    }
    return out;
  }

  /**
   * The limits' verdicts replace the replies; those told to wait, or whose limit keys hold another
   * type of value, are added to {@code release}.
   */
  private static void takeLimits(
      GateCalls calls,
      List<Attempt> checks,
      List<Supplier<Object>> replies,
      List<Integer> in,
      List<Integer> release) {
    List<Integer> limited = new ArrayList<>();
    List<Response<Object>> verdicts = new ArrayList<>();
    AbstractPipeline p = calls.pipeline();
    try {
      for (int i : in) {
        if (checks.get(i).keys.limits().isEmpty()) continue;
        limited.add(i);
        verdicts.add(calls.limitsCall(p, checks.get(i)));
      }
      if (limited.isEmpty()) return;
      p.sync();
    } finally {
      GateCalls.close(p);
    }
    for (int j = 0; j < limited.size(); j++) {
      int i = limited.get(j);
      Object v;
      try {
        v = GateCalls.read(verdicts.get(j)::get);
      } catch (JedisDataException e) {
        if (!RedisGate.wrongType(e)) throw e;
        wrongTyped(replies, i, RedisGate.named(checks.get(i).keys.limitKeys()), release);
        continue;
      }
      replies.set(i, () -> v);
      if ("wait".equals(RedisGate.text(((List<?>) v).get(0)))) release.add(i);
    }
  }

  private static void wrongTyped(
      List<Supplier<Object>> replies, int i, String keys, List<Integer> release) {
    List<Object> verdict = List.of(WRONG_TYPE, keys);
    replies.set(i, () -> verdict);
    release.add(i);
  }
}
