package io.itemfleet.worker.config;

import io.itemfleet.schemas.CodecLimits;
import io.itemfleet.schemas.FleetTopics;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How one worker process runs. Built and validated once in {@code main}; bad values fail start-up.
 *
 * @param kafka client properties laid over ItemFleet's own (bootstrap servers, security, ...)
 * @param workerId stable per replica for fast recovery: a restarted worker with the same ID fences
 *     and aborts its predecessor's open transaction at once, instead of after the transaction
 *     timeout
 * @param concurrency items in flight at most, across all partitions
 * @param commitInterval how often finished work is committed (one Kafka transaction)
 * @param maxHeld records fetched but not yet committed, at most, before partitions pause
 * @param drainTimeout how long SIGTERM waits for in-flight items
 * @param defaultJob job of plain item IDs without a fleet-job header
 * @param defaultType type of plain item IDs without a fleet-type header
 * @param redis where Redis is, for idempotency, cache keys, limits and checkpoints; empty runs
 *     without them (no deduplication: a redelivered item runs again)
 * @param leaseTtl how long an item's running lease lasts without renewal; a dead worker's items run
 *     again elsewhere after at most this long
 * @param staticMembership join the group as static member {@code workerId}: a restart with the same
 *     ID takes its partitions back without a rebalance or a session time-out (use with stable IDs)
 * @param unknownTypeWindow how long an item of a type this worker has no handler for is passed on
 *     (through the retry tiers, every minute, no attempt counted) for a worker that knows the type,
 *     before it is FAILED {@code config.unknown_type}; zero fails it at once
 * @param markerLayout where items' leases and done markers live in Redis (one key each, or fields
 *     of bucket hashes); every worker of a fleet uses the same
 * @param redisReplicasAck replicas that must acknowledge a pass's done markers ({@code WAIT})
 *     before its outcomes may be committed, so that a failover to a replica keeps them; 0 does not
 *     wait (a failover may lose the last markers, and a later duplicate of such an item runs again)
 * @param maxCrashes in the buckets layout, how many times the workers running one item may stop
 *     while it runs (its lease left to expire: out of memory, a kill; not {@code System.exit})
 *     before the item is FAILED {@code worker.crashed} instead of run again; 0 never gives up on it
 */
public record WorkerSettings(
    Map<String, Object> kafka,
    FleetTopics topics,
    String workerId,
    int concurrency,
    Duration commitInterval,
    int maxHeld,
    Duration drainTimeout,
    Duration transactionTimeout,
    Optional<String> defaultJob,
    Optional<String> defaultType,
    CodecLimits codecLimits,
    boolean staticMembership,
    Optional<java.net.URI> redis,
    Duration leaseTtl,
    Duration unknownTypeWindow,
    io.itemfleet.worker.MarkerLayout markerLayout,
    int redisReplicasAck,
    int maxCrashes) {

  public WorkerSettings {
    kafka = Map.copyOf(kafka);
    if (concurrency < 1 || concurrency > 100_000) {
      throw new ConfigException("concurrency must be in [1, 100000], was " + concurrency);
    }
    if (maxHeld < concurrency) {
      throw new ConfigException(
          "maxHeld (" + maxHeld + ") must be >= concurrency (" + concurrency + ")");
    }
    if (commitInterval.toMillis() < 1 || commitInterval.compareTo(Duration.ofSeconds(30)) > 0) {
      throw new ConfigException(
          "commitInterval must be in [1ms, 30s], was " + commitInterval.toMillis() + " ms");
    }
    if (!workerId.matches("[A-Za-z0-9._-]{1,100}")) {
      throw new ConfigException(
          "worker ID must be 1-100 letters, digits, '.', '_' or '-', was '" + workerId + "'");
    }
    if (redisReplicasAck < 0 || redisReplicasAck > 16) {
      throw new ConfigException("redisReplicasAck must be in [0, 16], was " + redisReplicasAck);
    }
    if (maxCrashes < 0 || maxCrashes > 1000) {
      throw new ConfigException("maxCrashes must be in [0, 1000], was " + maxCrashes);
    }
    if (leaseTtl.compareTo(Duration.ofSeconds(1)) < 0
        || leaseTtl.compareTo(Duration.ofHours(1)) > 0) {
      // A long lease holds a dead worker's items (and their partitions' commits) for as long.
      throw new ConfigException("leaseTtl must be in [1s, 1h], was " + leaseTtl.toSeconds() + " s");
    }
    if (drainTimeout.isNegative() || drainTimeout.compareTo(Duration.ofHours(24)) > 0) {
      // Beyond it, the wait at SIGTERM overflowed to a negative one: no final commit, exit 1.
      throw new ConfigException(
          "drainTimeout must be in [0, 24h] (a type's longest timeout), was "
              + drainTimeout.toSeconds()
              + " s");
    }
    redis.ifPresent(
        u -> {
          if (!java.util.Set.of("redis", "rediss", "redis-sentinel", "rediss-sentinel")
              .contains(u.getScheme())) {
            throw new ConfigException(
                "Redis URL must start with redis://, rediss:// or redis-sentinel://, was '"
                    + io.itemfleet.schemas.Redaction.text(u.toString())
                    + "'");
          }
        });
    if (unknownTypeWindow.isNegative() || unknownTypeWindow.compareTo(Duration.ofDays(7)) > 0) {
      throw new ConfigException(
          "unknownTypeWindow must be in [0, 7d], was " + unknownTypeWindow.toMillis() + " ms");
    }
    if (transactionTimeout.compareTo(commitInterval.multipliedBy(3)) < 0) {
      throw new ConfigException("transactionTimeout must be at least 3 × commitInterval");
    }
  }

  /**
   * Sensible defaults: 256 in flight, commit every 100 ms, hold at most max(50000, 32 ×
   * concurrency) records.
   */
  public static WorkerSettings defaults(
      Map<String, Object> kafka, FleetTopics topics, String workerId, int concurrency) {
    return new WorkerSettings(
        kafka,
        topics,
        workerId,
        concurrency,
        Duration.ofMillis(100),
        Math.max(50_000, 32 * concurrency),
        Duration.ofSeconds(30),
        Duration.ofSeconds(15),
        Optional.empty(),
        Optional.empty(),
        CodecLimits.DEFAULTS,
        false,
        Optional.empty(),
        Duration.ofSeconds(30),
        Duration.ofHours(1),
        io.itemfleet.worker.MarkerLayout.KEYS,
        0,
        3);
  }

  public WorkerSettings withDefaultsForPlainIds(Optional<String> job, Optional<String> type) {
    return with(
        d -> {
          d.defaultJob = job;
          d.defaultType = type;
        });
  }

  public WorkerSettings withDrainTimeout(Duration timeout) {
    return with(d -> d.drainTimeout = timeout);
  }

  public WorkerSettings withStaticMembership(boolean on) {
    return with(d -> d.staticMembership = on);
  }

  /** These settings using Redis at {@code url}, or without Redis when empty. */
  public WorkerSettings withRedis(Optional<java.net.URI> url) {
    return with(d -> d.redis = url);
  }

  public WorkerSettings withLeaseTtl(Duration ttl) {
    return with(d -> d.leaseTtl = ttl);
  }

  /** These settings with items' leases and markers in {@code layout}. */
  public WorkerSettings withMarkerLayout(io.itemfleet.worker.MarkerLayout layout) {
    return with(d -> d.markerLayout = layout);
  }

  /** These settings waiting for {@code n} replicas to acknowledge done markers (0: no wait). */
  public WorkerSettings withRedisReplicasAck(int n) {
    return with(d -> d.redisReplicasAck = n);
  }

  /** These settings giving up on an item after its workers stopped {@code n} times (0: never). */
  public WorkerSettings withMaxCrashes(int n) {
    return with(d -> d.maxCrashes = n);
  }

  public WorkerSettings withUnknownTypeWindow(Duration window) {
    return with(d -> d.unknownTypeWindow = window);
  }

  /** A copy with {@code change} applied, validated again by the canonical constructor. */
  private WorkerSettings with(java.util.function.Consumer<Draft> change) {
    Draft d = new Draft(this);
    change.accept(d);
    return d.build();
  }

  /** The fields of a settings record, for the withers; one place that lists them all. */
  private static final class Draft {
    Map<String, Object> kafka;
    FleetTopics topics;
    String workerId;
    int concurrency;
    Duration commitInterval;
    int maxHeld;
    Duration drainTimeout;
    Duration transactionTimeout;
    Optional<String> defaultJob;
    Optional<String> defaultType;
    CodecLimits codecLimits;
    boolean staticMembership;
    Optional<java.net.URI> redis;
    Duration leaseTtl;
    Duration unknownTypeWindow;
    io.itemfleet.worker.MarkerLayout markerLayout;
    int redisReplicasAck;
    int maxCrashes;

    Draft(WorkerSettings s) {
      kafka = s.kafka;
      topics = s.topics;
      workerId = s.workerId;
      concurrency = s.concurrency;
      commitInterval = s.commitInterval;
      maxHeld = s.maxHeld;
      drainTimeout = s.drainTimeout;
      transactionTimeout = s.transactionTimeout;
      defaultJob = s.defaultJob;
      defaultType = s.defaultType;
      codecLimits = s.codecLimits;
      staticMembership = s.staticMembership;
      redis = s.redis;
      leaseTtl = s.leaseTtl;
      unknownTypeWindow = s.unknownTypeWindow;
      markerLayout = s.markerLayout;
      redisReplicasAck = s.redisReplicasAck;
      maxCrashes = s.maxCrashes;
    }

    WorkerSettings build() {
      return new WorkerSettings(
          kafka,
          topics,
          workerId,
          concurrency,
          commitInterval,
          maxHeld,
          drainTimeout,
          transactionTimeout,
          defaultJob,
          defaultType,
          codecLimits,
          staticMembership,
          redis,
          leaseTtl,
          unknownTypeWindow,
          markerLayout,
          redisReplicasAck,
          maxCrashes);
    }
  }

  /** The consumer group all workers of a fleet share. */
  public String groupId() {
    return topics.prefix() + ".workers";
  }

  /** The transactional ID: one per worker ID, so that a restart fences its predecessor. */
  public String transactionalId() {
    return topics.prefix() + ".worker." + workerId;
  }
}
