package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.embedded.LocalRedisCluster;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.UnifiedJedis;

/**
 * The gate on a real Redis Cluster of three masters (Debian's {@code redis-server} in cluster mode,
 * started here): per-item keys on every master, deduplication and cache hits exact, a fleet-wide
 * limit holding across workers, checkpoints, and a master killed and restarted or slots moved
 * between masters mid-run without an item running twice or going missing. Skips with a message
 * where {@code redis-server} or {@code redis-cli} is missing.
 */
@ExtendWith(FleetTestKit.class)
class RedisClusterTest {
  private static LocalRedisCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    Optional<String> missing = LocalRedisCluster.missing();
    assumeTrue(missing.isEmpty(), () -> "no local Redis Cluster: " + missing.orElse(""));
    cluster = LocalRedisCluster.start(Files.createTempDirectory("itemfleet-cluster-"), 3);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) cluster.close();
  }

  private static Worker start(
      FleetHarness h, String id, int concurrency, String yaml, Map<String, TaskHandler> handlers) {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    return Worker.start(
        h.settings(id, concurrency).withRedis(Optional.of(RedisClients.parse(cluster.url()))),
        config,
        HandlerRegistry.create(config, handlers),
        WorkerMetrics.NONE);
  }

  private static UnifiedJedis client() {
    return RedisClients.open(RedisClients.parse(cluster.url()));
  }

  @Test
  void theUrlIsSeenAsAClusterAndOneNodeIsEnough() {
    assertThat(RedisClients.probe(RedisClients.parse(cluster.url())).cluster()).isTrue();
    String one = "redis://127.0.0.1:" + cluster.ports().get(2);
    assertThat(RedisClients.probe(RedisClients.parse(one)).cluster()).isTrue();
    try (UnifiedJedis r = RedisClients.open(RedisClients.parse(one))) {
      r.set("one-node-is-enough", "1"); // routed to whichever master owns the slot
      assertThat(r.get("one-node-is-enough")).isEqualTo("1");
    }
  }

  @Test
  void duplicatesAreDeduplicatedExactlyAndItemKeysSpreadOverEveryMaster(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    List<Long> before = cluster.keysPerNode();
    h.produce("job-cd", "t", FleetHarness.ids(3000));
    h.produce("job-cd", "t", FleetHarness.ids(3000));
    try (Worker w = start(h, "w-cd", 64, "{}", Map.of("t", RedisGateTest.counting(runs)))) {
      assertThat(RedisGateTest.awaitTotal(h, "job-cd", 6000))
          .isEqualTo(new OutcomeCounts(3000, 0, 0, 3000, 0));
    }
    assertThat(runs).hasSize(3000).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
    List<Long> after = cluster.keysPerNode();
    for (int i = 0; i < after.size(); i++) {
      // 3,000 markers over three masters by CRC16 slot: each holds about a third.
      assertThat(after.get(i) - before.get(i))
          .as("new keys on master %d", i)
          .isBetween(800L, 1200L);
    }
    try (UnifiedJedis r = client()) {
      String key = fleet.redisKeyPrefix() + "item:job-cd:item-7";
      assertThat(r.get(key)).startsWith("D|SUCCEEDED|");
      assertThat(r.pttl(key)).isPositive();
    }
  }

  @Test
  void markersInBucketsAreDeduplicatedExactlyAndSpreadOverEveryMaster(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    MarkerLayout layout = MarkerLayout.buckets(96);
    h.produce("job-cb", "t", FleetHarness.ids(3000));
    h.produce("job-cb", "t", FleetHarness.ids(3000));
    FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
    try (Worker w =
        Worker.start(
            h.settings("w-cbk", 64)
                .withRedis(Optional.of(RedisClients.parse(cluster.url())))
                .withMarkerLayout(layout),
            config,
            HandlerRegistry.create(config, Map.of("t", RedisGateTest.counting(runs))),
            WorkerMetrics.NONE)) {
      assertThat(RedisGateTest.awaitTotal(h, "job-cb", 6000))
          .isEqualTo(new OutcomeCounts(3000, 0, 0, 3000, 0));
    }
    assertThat(runs).hasSize(3000).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
    int[] perMaster = new int[3];
    for (int i = 0; i < 3; i++) {
      String keys =
          LocalRedisCluster.cli(
              cluster.ports().get(i), "--scan", "--pattern", fleet.redisKeyPrefix() + "m:job-cb:*");
      perMaster[i] = (int) keys.lines().filter(l -> !l.isBlank()).count();
    }
    // 96 buckets over three masters.
    for (int n : perMaster) assertThat(n).isBetween(16, 48);
    assertThat(perMaster[0] + perMaster[1] + perMaster[2]).isEqualTo(96);
    try (UnifiedJedis r = client()) {
      MarkerLayout.Place p = layout.defaultPlace(fleet.prefix(), "job-cb", "item-7");
      assertThat(r.hget(p.key(), p.field())).startsWith("D|S|");
    }
  }

  @Test
  void cacheHitsAreExactAcrossNodes(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    RedisGateTest.cacheHitsAreExact(
        h, 300, (id, yaml, handlers) -> start(h, id, 16, yaml, handlers));
    try (UnifiedJedis r = client()) {
      assertThat(r.get(fleet.redisKeyPrefix() + "cache:t:item-7")).isEqualTo("result-of-item-7");
      assertThat(r.get(fleet.redisKeyPrefix() + "item:job-b:item-7")).startsWith("D|CACHED|");
    }
  }

  /**
   * A cache entry holding another type of value fails its item alone. Here the cache is read in a
   * round trip of its own after the item's lease is taken; before, its WRONGTYPE reply failed the
   * whole pass, which was retried forever (the fleet stalled). The lease is given back.
   */
  @Test
  void anItemWhoseCacheKeyHoldsAnotherTypeFailsAloneOnTheCluster(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    try (UnifiedJedis r = client()) {
      RedisGateTest.wrongTypedCacheKeyFailsItsItemAlone(
          h,
          "job-ccwt",
          key -> r.hset(key, "someone", "else"),
          (id, yaml, handlers) -> start(h, id, 16, yaml, handlers));
      assertThat(r.hget(fleet.redisKeyPrefix() + "cache:t:c-3", "someone")).isEqualTo("else");
      assertThat(r.get(fleet.redisKeyPrefix() + "item:job-ccwt:c-3")).isNull(); // lease given back
    }
  }

  /**
   * A limit's slots key holding another type of value (the LIMITS script's ZSET calls fail): the
   * items of that tag fail alone, naming the limit keys, their leases given back; the items of
   * other types run. Before, the reply failed the whole pass, which was retried forever.
   */
  @Test
  void itemsWhoseLimitKeysHoldAnotherTypeFailAloneOnTheCluster(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    String slots = "{" + fleet.redisKeyPrefix() + "limits}:scarce:slots";
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String yaml =
        """
        types:
          t: {handler: simulate, tags: [scarce]}
          u: {handler: simulate}
        limits:
          scarce: {concurrency: 5}
        """;
    try (UnifiedJedis r = client()) {
      r.set(slots, "not a sorted set");
      h.produce("job-lwt", "t", List.of("t-1", "t-2", "t-3"));
      h.produce("job-lwt", "u", List.of("u-1", "u-2"));
      try (Worker w =
          start(
              h,
              "w-lwt",
              16,
              yaml,
              Map.of("t", RedisGateTest.counting(runs), "u", RedisGateTest.counting(runs)))) {
        assertThat(RedisGateTest.awaitTotal(h, "job-lwt", 5))
            .isEqualTo(new OutcomeCounts(2, 0, 3, 0, 0));
      }
      assertThat(runs).containsOnlyKeys("u-1", "u-2");
      assertThat(h.failures())
          .filteredOn(e -> e.job().equals(Optional.of("job-lwt")))
          .hasSize(3)
          .allSatisfy(
              e -> {
                assertThat(e.errorClass()).isEqualTo("redis.wrong_type");
                assertThat(e.errorMessage()).contains(slots);
              });
      assertThat(r.get(slots)).isEqualTo("not a sorted set"); // left as it was
      for (String item : List.of("t-1", "t-2", "t-3")) {
        assertThat(r.get(fleet.redisKeyPrefix() + "item:job-lwt:" + item))
            .as("lease of %s given back", item)
            .isNull();
      }
    }
  }

  @Test
  void aFleetWideConcurrencyLimitHoldsAcrossTwoWorkers(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    assertThat(
            RedisGateTest.mostInFlightUnderALimitOf5(
                h, "job-cl", (id, yaml, handlers) -> start(h, id, 50, yaml, handlers)))
        .isBetween(2, 5);
    try (UnifiedJedis r = client()) {
      // All of the fleet's limit keys share one hash slot, so one script takes them together.
      String slots = "{" + fleet.redisKeyPrefix() + "limits}:scarce:slots";
      assertThat(r.zcard(slots)).isZero(); // every slot taken was given back
    }
  }

  @Test
  void aCheckpointSavedByOneAttemptIsReadByTheRetryAndRemovedAtTheEnd(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    RedisGateTest.checkpointIsReadByTheRetry(
        h, "job-ck", (id, yaml, handlers) -> start(h, id, 4, yaml, handlers));
    try (UnifiedJedis r = client()) {
      assertThat(r.exists(fleet.redisKeyPrefix() + "ckpt:job-ck:long-item")).isFalse();
    }
  }

  @Test
  void aMasterKilledAndRestartedMidRunLosesNothingAndRunsNothingTwice(TestFleet fleet) {
    // SIGKILL, then the same port and files
    disruptedMidRun(fleet, cluster, "job-cr", 0, 0, () -> cluster.restart(1));
  }

  @Test
  void slotsMovedToAnotherMasterMidRunAreFollowed(TestFleet fleet) {
    // MOVED, and ASK while keys migrate; duplicates, some after the move
    disruptedMidRun(fleet, cluster, "job-cm", 1000, 0, () -> cluster.moveSlots(0, 2, 1000));
  }

  @Test
  void aFailoverToAReplicaMidRunIsFollowedAndLosesNoMarker(TestFleet fleet) throws Exception {
    // A cluster of its own, with a replica per primary. A manual failover waits for the replica
    // to catch up: every marker is on the new primaries, and every copy sent afterwards (the
    // duplicates produced after the disruption) is deduplicated.
    try (LocalRedisCluster withReplicas =
        LocalRedisCluster.start(Files.createTempDirectory("itemfleet-cluster-ha-"), 3, 1)) {
      int primary = withReplicas.primaryPorts().get(0);
      disruptedMidRun(
          fleet,
          withReplicas,
          "job-cf",
          0,
          4000,
          () -> {
            int promoted = withReplicas.failover(primary);
            assertThat(withReplicas.primaryPorts()).contains(promoted).doesNotContain(primary);
          });
    }
  }

  /**
   * 4,000 items (and {@code before} copies of the first ones, queued behind them) through one
   * worker on {@code on} at 20 ms each, {@code disruption} done once 500 have run; then {@code
   * after} more copies once all have finished: every item runs once, every copy is deduplicated.
   */
  private static void disruptedMidRun(
      TestFleet fleet,
      LocalRedisCluster on,
      String job,
      int before,
      int after,
      Runnable disruption) {
    FleetHarness h = new FleetHarness(fleet, 4);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    TaskHandler slowish =
        ctx -> {
          Thread.sleep(20);
          return RedisGateTest.counting(runs).handle(ctx);
        };
    FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
    h.produce(job, "t", FleetHarness.ids(4000));
    if (before > 0) h.produce(job, "t", FleetHarness.ids(before));
    try (Worker w =
        Worker.start(
            h.settings("w-" + job, 32).withRedis(Optional.of(RedisClients.parse(on.url()))),
            config,
            HandlerRegistry.create(config, Map.of("t", slowish)),
            WorkerMetrics.NONE)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> runs.size() >= 500);
      disruption.run();
      assertThat(RedisGateTest.awaitTotal(h, job, 4000 + before))
          .isEqualTo(new OutcomeCounts(4000, 0, 0, before, 0));
      if (after > 0) {
        h.produce(job, "t", FleetHarness.ids(after));
        assertThat(RedisGateTest.awaitTotal(h, job, 4000 + before + after))
            .isEqualTo(new OutcomeCounts(4000, 0, 0, before + after, 0));
      }
    }
    assertThat(runs).hasSize(4000).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
  }
}
