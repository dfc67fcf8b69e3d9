package io.itemfleet.worker;

import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.KeyTemplate;
import io.itemfleet.worker.config.TagLimit;
import io.itemfleet.worker.config.TaskSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Redis keys and settings of one gated attempt, worked out once: on the poll thread when it is
 * submitted ({@code RedisGate.submit}), else on the gate thread.
 *
 * @param item the item's key: its running lease ("L|worker|record") and then its done marker
 *     ("D|outcome|record|..."); in the buckets layout, the hash holding them
 * @param field the item's field of that hash in the buckets layout, "" in the keys layout
 * @param cache the cache entry's key, or "" when the type does not cache
 * @param prefix the fleet's key prefix ("<topic prefix>:"), for {@link #checkpoint}
 * @param task the message, for {@link #checkpoint}
 * @param limits the fleet-wide limits the item counts against
 * @param slots the slots key of each limit (same order)
 * @param rates the rate key of each limit (same order)
 * @param leaseValue who holds the lease: the worker and the record it is running
 * @param encoded the key, field and lease as bytes in the buckets layout; null in the keys layout
 */
record GateKeys(
    String item,
    String field,
    String cache,
    String prefix,
    TaskMessage task,
    List<TagLimit> limits,
    List<String> slots,
    List<String> rates,
    String leaseValue,
    TaskSettings settings,
    boolean replay,
    Encoded encoded) {

  /**
   * The key, field and lease value of an item in the buckets layout, encoded once where the keys
   * are worked out (mostly the poll thread), so that the gate thread, which every item of a
   * Redis-bound fleet waits on, only copies bytes into its pipeline.
   *
   * @param lease the lease value followed by "|", its deadline to be appended
   */
  record Encoded(RawBytes item, RawBytes field, byte[] lease) {}

  /**
   * The handler's progress checkpoint key, {@code <prefix>ckpt:<idempotency key>}: built when it is
   * asked for, as most items never checkpoint (it was two strings per item on the poll thread).
   */
  String checkpoint() {
    return prefix + "ckpt:" + idempotencyKey(task, settings);
  }

  /** The item's idempotency key: the message's own, else the type's template filled in. */
  static String idempotencyKey(TaskMessage t, TaskSettings s) {
    return t.options().idempotencyKey().orElseGet(() -> KeyTemplate.expand(s.idempotencyKey(), t));
  }

  /**
   * True when plain commands suffice (one {@code SET NX GET} before, one {@code SET} after): no
   * cache key, no limits, not a replay.
   */
  boolean fast() {
    return cache.isEmpty() && limits.isEmpty() && !replay;
  }

  /**
   * Works out the keys of an attempt: under {@code prefix} ("<topic prefix>:"), its lease held by
   * {@code owner} (worker ID, incarnation) for this assignment epoch and record. On a Redis Cluster
   * ({@code cluster}) every limit key of the fleet carries one hash tag, so that a script takes all
   * of an item's limits at once on one node; on one server the names stay as they were.
   */
  static GateKeys of(
      String prefix,
      String owner,
      Attempt a,
      TaskMessage t,
      TaskSettings s,
      List<TagLimit> limits,
      boolean cluster,
      MarkerLayout layout,
      BucketKeys bucketKeys) {
    boolean defaultKey =
        t.options().idempotencyKey().isEmpty()
            && s.idempotencyKey().equals(TaskSettings.DEFAULT_IDEMPOTENCY_KEY);
    BucketKeys.Key bucket =
        layout.inBuckets() && defaultKey
            ? bucketKeys.key(layout, prefix, t.job(), layout.bucket(t.item()))
            : null;
    MarkerLayout.Place place =
        bucket != null
            ? new MarkerLayout.Place(bucket.text(), t.item())
            : layout.place(prefix, idempotencyKey(t, s), Optional.empty(), t.item());
    String cache =
        t.options().cacheKey().isPresent()
            ? prefix + "cache:" + t.options().cacheKey().get()
            : s.cacheKey().map(k -> prefix + "cache:" + KeyTemplate.expand(k, t)).orElse("");
    List<String> slots = List.of();
    List<String> rates = List.of();
    if (!limits.isEmpty()) {
      slots = new ArrayList<>(limits.size());
      rates = new ArrayList<>(limits.size());
      String limitPrefix = cluster ? "{" + prefix + "limits}:" : prefix + "limit:";
      for (TagLimit l : limits) {
        slots.add(limitPrefix + l.tag() + ":slots");
        rates.add(limitPrefix + l.tag() + ":rate");
      }
    }
    long offset = a.slot.record.offset();
    String lease = a.state.lease(owner, offset);
    // Every attempt in buckets, not only those claimed on the fast path: a replayed item is
    // checked by the GATE script but its done marker goes into its bucket's HSET like any other.
    Encoded encoded =
        layout.inBuckets()
            ? new Encoded(
                bucket != null ? bucket.bytes() : RawBytes.utf8(place.key()),
                RawBytes.utf8(place.field()),
                a.state.leaseBytes(owner, offset))
            : null;
    return new GateKeys(
        place.key(),
        place.field(),
        cache,
        prefix,
        t,
        limits,
        slots,
        rates,
        lease,
        s,
        a.slot.replay,
        encoded);
  }

  /** The limit keys, each limit's slots key then its rate key. */
  List<String> limitKeys() {
    List<String> out = new ArrayList<>(2 * slots.size());
    for (int i = 0; i < slots.size(); i++) {
      out.add(slots.get(i));
      out.add(rates.get(i));
    }
    return out;
  }
}
