package io.itemfleet.worker;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.args.ExpiryOption;

/**
 * Lets a finished job's done markers go a grace period after its completion, instead of after the
 * fixed idempotency TTL: in the buckets layout ({@link MarkerLayout}) a job's markers live in its
 * own bucket hashes, so one {@code PEXPIRE ... LT} per bucket (pipelined; never lengthening a TTL)
 * expires them all, however many items the job had. Markers under other idempotency keys
 * (fleet-wide buckets) keep their TTL. A worker that later writes to the job's buckets (a late
 * duplicate that finds its marker writes nothing; a replay's new markers do) raises the TTL of the
 * buckets it writes to again. Called by the recorder's thread ({@code fleet recorder} with {@code
 * FLEET_MARKER_GRACE}).
 */
public final class MarkerExpiry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MarkerExpiry.class);

  private final UnifiedJedis redis;
  private final MarkerLayout layout;
  private final String topicPrefix;
  private final long graceMillis;

  /**
   * @throws IllegalArgumentException unless the layout is buckets and the grace at least two
   *     minutes (workers trust the TTLs they raised for a minute; see {@code BucketTtls})
   */
  public MarkerExpiry(URI redis, MarkerLayout layout, String topicPrefix, Duration grace) {
    if (!layout.inBuckets()) {
      throw new IllegalArgumentException(
          "a marker grace period needs the buckets marker layout (FLEET_REDIS_MARKERS=buckets):"
              + " with one key per item, a job's markers cannot be expired at once");
    }
    if (grace.compareTo(Duration.ofMinutes(2)) < 0) {
      throw new IllegalArgumentException(
          "the marker grace period must be at least 2m, was " + grace.toMillis() + " ms");
    }
    this.redis = RedisClients.open(redis);
    this.layout = layout;
    this.topicPrefix = topicPrefix;
    this.graceMillis = grace.toMillis();
  }

  /** Expires the job's buckets after the grace period; returns how many got the shorter TTL. */
  public int jobCompleted(String job) {
    List<Response<Long>> replies = new ArrayList<>(layout.bucketsPerJob());
    try (AbstractPipeline p = redis.pipelined()) {
      for (int n = 0; n < layout.bucketsPerJob(); n++) {
        replies.add(p.pexpire(layout.bucketKey(topicPrefix, job, n), graceMillis, ExpiryOption.LT));
      }
      p.sync();
    }
    int set = 0;
    for (Response<Long> r : replies) set += RedisClients.read(r::get) == 1L ? 1 : 0;
    log.info(
        "job {} completed: its done markers ({} buckets) expire in {} s",
        job,
        set,
        graceMillis / 1000);
    return set;
  }

  @Override
  public void close() {
    redis.close();
  }
}
