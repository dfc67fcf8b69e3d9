package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;

/** Idempotency, cache keys, fleet-wide limits and checkpoints against a real Redis and Kafka. */
@ExtendWith(FleetTestKit.class)
class RedisGateTest {

  private static Worker start(
      FleetHarness h, String id, int concurrency, String yaml, Map<String, TaskHandler> handlers) {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    return Worker.start(
        h.redisSettings(id, concurrency),
        config,
        HandlerRegistry.create(config, handlers),
        WorkerMetrics.NONE);
  }

  /** A handler counting its runs per item. */
  static TaskHandler counting(Map<String, AtomicInteger> runs) {
    return ctx -> {
      runs.computeIfAbsent(ctx.item(), k -> new AtomicInteger()).incrementAndGet();
      return new HandlerResult.Succeeded(Optional.of("result-of-" + ctx.item()));
    };
  }

  static OutcomeCounts awaitTotal(FleetHarness h, String job, long n) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> h.totals(job).counts().total() >= n);
    return h.totals(job).counts();
  }

  private static Jedis redis(TestFleet fleet) {
    return new Jedis(URI.create(fleet.redisUrl()));
  }

  @Test
  void secondMessageForAnItemIsDeduplicatedAndNeverRuns(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-d", "t", FleetHarness.ids(500));
    h.produce("job-d", "t", FleetHarness.ids(500));
    try (Worker w = start(h, "w-dedup", 64, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-d", 1000)).isEqualTo(new OutcomeCounts(500, 0, 0, 500, 0));
    }
    assertThat(runs).hasSize(500).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
    assertThat(h.totals("job-d").counts().total()).isEqualTo(1000);
  }

  @Test
  void messageWhoseOptionsCannotApplyFailsForGoodAndTheRestRun(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-b", "t", List.of("a"));
    h.produceRaw(
        "{\"v\":1,\"job\":\"job-b\",\"type\":\"t\",\"item\":\"bad\",\"options\":{\"timeout\":\"0s\"}}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8),
        Map.of());
    h.produce("job-b", "t", List.of("b"));
    try (Worker w = start(h, "w-bad", 8, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-b", 3)).isEqualTo(new OutcomeCounts(2, 0, 1, 0, 0));
      assertThat(w.isHealthy()).isTrue();
    }
    assertThat(runs).containsOnlyKeys("a", "b");
    assertThat(h.failures())
        .singleElement()
        .satisfies(f -> assertThat(f.errorClass()).isEqualTo("task.bad_options"));
  }

  @Test
  void sameItemInAnotherJobRunsAgainUnderTheDefaultKey(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-1", "t", List.of("x", "y"));
    h.produce("job-2", "t", List.of("x", "y"));
    try (Worker w = start(h, "w-jobs", 8, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-1", 2).succeeded()).isEqualTo(2);
      assertThat(awaitTotal(h, "job-2", 2).succeeded()).isEqualTo(2);
    }
    assertThat(runs.get("x").get()).isEqualTo(2);
  }

  @Test
  void typesIdempotencyKeyTemplateDeduplicatesAcrossJobs(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String yaml = "types:\n  t: {handler: simulate, idempotencyKey: '${type}:${item}'}\n";
    h.produce("job-1", "t", List.of("x", "y"));
    try (Worker w = start(h, "w-key", 8, yaml, Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-1", 2).succeeded()).isEqualTo(2);
      h.produce("job-2", "t", List.of("x", "y"));
      assertThat(awaitTotal(h, "job-2", 2).deduplicated()).isEqualTo(2);
    }
    assertThat(runs.get("x").get()).isEqualTo(1);
  }

  /**
   * An item whose key holds another type of value (here a hash) cannot be checked: it alone is
   * FAILED without running, naming the key, and the others of its pass run as usual — before, the
   * whole pass failed and was retried forever, stalling the fleet.
   */
  @Test
  void anItemWhoseKeyHoldsAnotherTypeFailsAloneAndTheRestRun(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String bad = RedisKeys.defaultItemKey(fleet.prefix(), "job-wt", "i-3");
    try (Jedis r = redis(fleet)) {
      r.hset(bad, "someone", "else");
      r.pexpire(bad, 120_000);
    }
    h.produce("job-wt", "t", List.of("i-1", "i-2", "i-3", "i-4", "i-5"));
    try (Worker w = start(h, "w-wt", 8, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-wt", 5)).isEqualTo(new OutcomeCounts(4, 0, 1, 0, 0));
    }
    assertThat(runs).containsOnlyKeys("i-1", "i-2", "i-4", "i-5");
    FailureEvent f =
        h.failures().stream()
            .filter(e -> e.job().equals(Optional.of("job-wt")))
            .findFirst()
            .orElseThrow();
    assertThat(f.item()).contains("i-3");
    assertThat(f.errorClass()).isEqualTo("redis.wrong_type");
    assertThat(f.errorMessage()).contains(bad).contains("replay");
    try (Jedis r = redis(fleet)) {
      assertThat(r.hget(bad, "someone")).isEqualTo("else"); // left as it was
    }
  }

  @Test
  void theBucketsLayoutOnARedisOlderThan7IsRefusedAtStartWithTheReason(TestFleet fleet) {
    try (Jedis r = redis(fleet)) {
      org.junit.jupiter.api.Assumptions.assumeTrue(
          RedisClients.majorVersion(r.info("server")) < 7,
          "the test kit's Redis is 7 or later here; the refusal needs an older one");
    }
    FleetHarness h = new FleetHarness(fleet, 1);
    FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                Worker.start(
                    h.redisSettings("w-old", 4).withMarkerLayout(MarkerLayout.buckets(8)),
                    config,
                    HandlerRegistry.create(
                        config, Map.of("t", counting(new ConcurrentHashMap<>()))),
                    WorkerMetrics.NONE))
        .isInstanceOf(io.itemfleet.worker.config.ConfigException.class)
        .hasMessageContaining("needs Redis 7.0 or later")
        .hasMessageContaining("FLEET_REDIS_MARKERS=keys");
  }

  @Test
  void cacheHitSkipsTheHandlerAndCountsCached(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    cacheHitsAreExact(h, 100, (id, yaml, handlers) -> start(h, id, 16, yaml, handlers));
    try (Jedis r = redis(fleet)) {
      assertThat(r.get(fleet.redisKeyPrefix() + "cache:t:item-7")).isEqualTo("result-of-item-7");
    }
  }

  /**
   * {@code n} items of a type with a cache key run in job-a, then the same items in job-b are all
   * CACHED; the handler ran once per item.
   */
  static void cacheHitsAreExact(FleetHarness h, int n, Starter start) {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String yaml =
        """
        types:
          t:
            handler: simulate
            cache: {key: "${type}:${item}", ttl: 1h}
            persistResult: true
        """;
    h.produce("job-a", "t", FleetHarness.ids(n));
    try (Worker w = start.start("w-cache", yaml, Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-a", n).succeeded()).isEqualTo(n);
      h.produce("job-b", "t", FleetHarness.ids(n));
      assertThat(awaitTotal(h, "job-b", n)).isEqualTo(new OutcomeCounts(0, n, 0, 0, 0));
    }
    assertThat(runs).hasSize(n).allSatisfy((item, k) -> assertThat(k.get()).isEqualTo(1));
  }

  /**
   * An item whose cache entry holds another type of value (the GATE script's GET of it fails) is
   * FAILED alone, naming the cache key; before, on a Redis Cluster (where the cache is read in a
   * round trip of its own) the whole pass failed and was retried forever.
   */
  @Test
  void anItemWhoseCacheKeyHoldsAnotherTypeFailsAloneAndTheRestRun(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    try (Jedis r = redis(fleet)) {
      wrongTypedCacheKeyFailsItsItemAlone(
          h,
          "job-cwt",
          key -> r.hset(key, "someone", "else"),
          (id, yaml, handlers) -> start(h, id, 8, yaml, handlers));
      assertThat(r.hget(fleet.redisKeyPrefix() + "cache:t:c-3", "someone")).isEqualTo("else");
    }
  }

  /**
   * Five items of a caching type, the cache key of c-3 made a hash by {@code makeHash} first: c-3
   * alone is FAILED redis.wrong_type naming its cache key, without running; the others run.
   */
  static void wrongTypedCacheKeyFailsItsItemAlone(
      FleetHarness h, String job, java.util.function.Consumer<String> makeHash, Starter start) {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String cacheKey = h.fleet.redisKeyPrefix() + "cache:t:c-3";
    makeHash.accept(cacheKey);
    String yaml =
        """
        types:
          t:
            handler: simulate
            cache: {key: "${type}:${item}", ttl: 1h}
        """;
    h.produce(job, "t", List.of("c-1", "c-2", "c-3", "c-4", "c-5"));
    try (Worker w = start.start("w-" + job, yaml, Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, job, 5)).isEqualTo(new OutcomeCounts(4, 0, 1, 0, 0));
    }
    assertThat(runs).containsOnlyKeys("c-1", "c-2", "c-4", "c-5");
    FailureEvent f =
        h.failures().stream()
            .filter(e -> e.job().equals(Optional.of(job)))
            .findFirst()
            .orElseThrow();
    assertThat(f.item()).contains("c-3");
    assertThat(f.errorClass()).isEqualTo("redis.wrong_type");
    assertThat(f.errorMessage()).contains(cacheKey).contains("replay");
  }

  @Test
  void redeliveryOfTheFinishingRecordReEmitsItsOutcomeAndOthersAreDeduplicated(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-r", "t", List.of("a", "b"));
    String tasks = h.topics.tasks();
    try (Jedis r = redis(fleet)) {
      String p = fleet.redisKeyPrefix();
      // As if a worker finished offset 0 ("a"), wrote its marker and died before committing,
      // and an earlier message (offset 99) finished "b".
      r.set(p + "item:job-r:a", "D|FAILED|" + tasks + "|0|0|3|http.500|boom");
      r.set(p + "item:job-r:b", "D|SUCCEEDED|" + tasks + "|0|99|1||");
    }
    try (Worker w = start(h, "w-redeliver", 8, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-r", 2)).isEqualTo(new OutcomeCounts(0, 0, 1, 1, 0));
    }
    assertThat(runs).isEmpty();
    assertThat(h.failures())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.errorClass()).isEqualTo("http.500");
              assertThat(f.attempts()).isEqualTo(3);
            });
  }

  @Test
  void deadWorkersLeaseExpiresAndTheItemRunsAgain(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    try (Jedis r = redis(fleet)) {
      r.set(
          fleet.redisKeyPrefix() + "item:job-l:a",
          "L|dead-worker|x|0|0",
          SetParams.setParams().px(1500));
    }
    h.produce("job-l", "t", List.of("a"));
    long t0 = System.nanoTime();
    try (Worker w = start(h, "w-lease", 8, "{}", Map.of("t", counting(runs)))) {
      assertThat(awaitTotal(h, "job-l", 1).succeeded()).isEqualTo(1);
    }
    assertThat(runs.get("a").get()).isEqualTo(1);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(1400));
  }

  @Test
  void fleetWideConcurrencyLimitHoldsAcrossTwoWorkers(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    assertThat(
            mostInFlightUnderALimitOf5(
                h, "job-c", (id, yaml, handlers) -> start(h, id, 50, yaml, handlers)))
        .isBetween(2, 5);
  }

  /** Starts a worker of a test's kind (its Redis, its settings). */
  interface Starter {
    Worker start(String id, String yaml, Map<String, TaskHandler> handlers);
  }

  /**
   * 300 items of a type whose tag allows 5 at once fleet-wide, run by two workers of 50 lanes each;
   * returns the most that ran at once.
   */
  static int mostInFlightUnderALimitOf5(FleetHarness h, String job, Starter start) {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    TaskHandler slow =
        ctx -> {
          most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          Thread.sleep(20);
          inFlight.decrementAndGet();
          return HandlerResult.succeeded();
        };
    String yaml =
        """
        types:
          t: {handler: simulate, tags: [scarce]}
        limits:
          scarce: {concurrency: 5}
        """;
    h.produce(job, "t", FleetHarness.ids(300));
    try (Worker a = start.start("w-lim-a-" + job, yaml, Map.of("t", slow));
        Worker b = start.start("w-lim-b-" + job, yaml, Map.of("t", slow))) {
      assertThat(awaitTotal(h, job, 300).succeeded()).isEqualTo(300);
    }
    return most.get();
  }

  @Test
  void fleetWideRateLimitSpacesStarts(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    List<Long> starts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    String yaml =
        """
        types:
          t: {handler: simulate, tags: [api]}
        limits:
          api: {rate: 50/s}
        """;
    h.produce("job-rate", "t", FleetHarness.ids(100));
    try (Worker w = start(h, "w-rate", 64, yaml, Map.of("t", timed(starts)))) {
      assertThat(awaitTotal(h, "job-rate", 100).succeeded()).isEqualTo(100);
    }
    // 100 starts at 50/s span at least 99 × 20 ms. Measured from the first start, not from before
    // the worker's start-up: that alone took longer, so the check could not fail.
    assertThat(spread(starts)).isGreaterThan(Duration.ofMillis(1800));
  }

  /** A handler noting the time each attempt starts. */
  static TaskHandler timed(List<Long> starts) {
    return ctx -> {
      starts.add(System.nanoTime());
      return HandlerResult.succeeded();
    };
  }

  /** From the first start to the last. */
  static Duration spread(List<Long> starts) {
    return Duration.ofNanos(java.util.Collections.max(starts) - java.util.Collections.min(starts));
  }

  @Test
  void aMessageCannotDropItsTypesLimitsWithTagsOfItsOwn(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    List<Long> starts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    String yaml =
        """
        types:
          t: {handler: simulate, tags: [api]}
        limits:
          api: {rate: 20/s}
        """;
    // Any producer of the topic may set options; "tags": [] used to replace the type's [api].
    for (int i = 0; i < 40; i++) {
      String tags = i % 2 == 0 ? "[]" : "[\"other\"]";
      h.produceRaw(
          ("{\"v\":1,\"job\":\"job-tags\",\"type\":\"t\",\"item\":\"i"
                  + i
                  + "\",\"options\":{\"tags\":"
                  + tags
                  + "}}")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8),
          Map.of());
    }
    try (Worker w = start(h, "w-tags", 64, yaml, Map.of("t", timed(starts)))) {
      assertThat(awaitTotal(h, "job-tags", 40).succeeded()).isEqualTo(40);
    }
    // 40 starts at 20/s span at least 39 × 50 ms (the worker's own start-up left out).
    assertThat(spread(starts)).isGreaterThan(Duration.ofMillis(1800));
  }

  @Test
  void checkpointSavedByOneAttemptIsReadByTheRetry(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    checkpointIsReadByTheRetry(h, "job-k", (id, yaml, handlers) -> start(h, id, 4, yaml, handlers));
    try (Jedis r = redis(fleet)) {
      assertThat(r.exists(fleet.redisKeyPrefix() + "ckpt:job-k:long-item")).isFalse();
    }
  }

  /**
   * An item whose first attempt saves a checkpoint and asks for a retry: the retry reads it and
   * succeeds.
   */
  static void checkpointIsReadByTheRetry(FleetHarness h, String job, Starter start) {
    Map<Integer, Optional<String>> seen = new ConcurrentHashMap<>();
    TaskHandler resumable =
        ctx -> {
          seen.put(ctx.attempt(), ctx.checkpoint());
          if (ctx.attempt() == 1) {
            ctx.saveCheckpoint("page=7");
            return HandlerResult.retry("test.transient", "try again");
          }
          return HandlerResult.succeeded();
        };
    String yaml = "defaults: {retryDelays: [100ms], jitter: 0}";
    h.produce(job, "t", List.of("long-item"));
    try (Worker w = start.start("w-ckpt-" + job, yaml, Map.of("t", resumable))) {
      assertThat(awaitTotal(h, job, 1).succeeded()).isEqualTo(1);
    }
    assertThat(seen).containsEntry(1, Optional.empty()).containsEntry(2, Optional.of("page=7"));
  }

  @Test
  void everyKeyTheWorkerWritesHasATtl(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    String yaml =
        """
        types:
          t: {handler: simulate, tags: [scarce, api], cache: {key: "${item}:${payloadHash}"}}
        limits:
          scarce: {concurrency: 3}
          api: {rate: 500/s}
        """;
    h.produce("job-ttl", "t", FleetHarness.ids(200));
    h.produce("job-ttl", "t", FleetHarness.ids(50));
    try (Worker w = start(h, "w-ttl", 32, yaml, Map.of())) {
      awaitTotal(h, "job-ttl", 250);
    }
    List<String> keys = new java.util.ArrayList<>();
    try (Jedis r = redis(fleet)) {
      String cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> page =
            r.scan(cursor, new ScanParams().match(fleet.redisKeyPrefix() + "*").count(500));
        keys.addAll(page.getResult());
        cursor = page.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
      assertThat(keys).hasSizeGreaterThan(200);
      for (String k : keys) {
        assertThat(r.pttl(k)).as("TTL of %s", k).isPositive();
      }
    }
  }

  @Test
  void redisStoppedAndRestartedMidRunPausesTheWorkerAndLosesNothing(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    AtomicInteger runs = new AtomicInteger();
    TaskHandler slowish =
        ctx -> {
          Thread.sleep(2);
          runs.incrementAndGet();
          return HandlerResult.succeeded();
        };
    int port = io.itemfleet.embedded.FreePorts.next();
    io.itemfleet.embedded.EmbeddedRedisServer redis =
        io.itemfleet.embedded.EmbeddedRedisServer.start(port);
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    WorkerSettings settings =
        h.settings("w-outage", 16).withRedis(Optional.of(URI.create("redis://127.0.0.1:" + port)));
    h.produce("job-o", "t", FleetHarness.ids(4000));
    try (Worker w =
        Worker.start(
            settings,
            config,
            HandlerRegistry.create(config, Map.of("t", slowish)),
            WorkerMetrics.NONE)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() > 300);
      redis.close();
      await().atMost(Duration.ofSeconds(10)).until(() -> !w.isHealthy());
      // Attempts cleared before the outage may finish; after that nothing runs unchecked.
      await().atMost(Duration.ofSeconds(10)).until(() -> stalled(runs));
      long committedDuringOutage = h.totals("job-o").counts().total();
      assertThat(committedDuringOutage).isLessThan(4000);
      assertThat(w.isRunning()).isTrue();
      redis = io.itemfleet.embedded.EmbeddedRedisServer.start(port);
      assertThat(awaitTotal(h, "job-o", 4000).succeeded()).isEqualTo(4000);
      assertThat(w.isHealthy()).isTrue();
    } finally {
      redis.close();
    }
    assertThat(h.totals("job-o").counts().total()).isEqualTo(4000);
  }

  /** True when no handler ran for half a second. */
  private static boolean stalled(AtomicInteger runs) throws InterruptedException {
    int before = runs.get();
    Thread.sleep(500);
    return runs.get() == before;
  }
}
