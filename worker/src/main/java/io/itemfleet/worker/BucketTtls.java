package io.itemfleet.worker;

import java.util.HashMap;
import java.util.Map;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.args.ExpiryOption;

/**
 * The TTLs this worker gave bucket hashes lately ({@link MarkerLayout} buckets), so that a bucket's
 * TTL is raised once a minute per worker at most, not with every item written to it: a lease or
 * marker written to a bucket queues, in the same pipeline, {@code PEXPIRE NX} (a new bucket gets a
 * TTL) and {@code PEXPIRE GT} (a shorter one is raised) to the TTL it needs plus the minute this
 * raise is trusted for, unless this worker did so for at least as long within that minute. So while
 * a raise is trusted the bucket still has at least the TTL asked for, and it cannot have expired
 * and come back without one (the gate never empties a bucket: a released lease is overwritten with
 * an expired one, not deleted). Gate thread only; at most {@link #MAX_ENTRIES} buckets remembered
 * (all forgotten when full: a forgotten bucket is only raised again).
 */
final class BucketTtls {
  /** How long a raise is trusted; the raise adds this much to the TTL asked for. */
  static final long TRUST_MILLIS = 60_000;

  static final int MAX_ENTRIES = 100_000;

  private record Raised(long atNanos, long ttlMillis) {}

  private final Map<String, Raised> raised = new HashMap<>();

  /** Queues the TTL raise of {@code bucket} to at least {@code ttlMillis}, unless done lately. */
  void ensure(AbstractPipeline p, String bucket, long ttlMillis) {
    long now = System.nanoTime();
    Raised r = raised.get(bucket);
    if (r != null && r.ttlMillis() >= ttlMillis && now - r.atNanos() < TRUST_MILLIS * 1_000_000) {
      return;
    }
    long ms = ttlMillis + TRUST_MILLIS;
    p.pexpire(bucket, ms, ExpiryOption.NX);
    p.pexpire(bucket, ms, ExpiryOption.GT);
    if (raised.size() >= MAX_ENTRIES) raised.clear(); // forgetting costs only a raise again
    raised.put(bucket, new Raised(now, ttlMillis));
  }

  /** Forgets everything (after a Redis failure: the raises may not have happened). */
  void clear() {
    raised.clear();
  }
}
