package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.embedded.LocalRedisServer;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.net.URI;
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
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.SetParams;

/**
 * The gate's fast path on Redis 7+, where it claims with a native {@code SET NX GET PX} and marks
 * with {@code SET PX} instead of scripts (the test kit's embedded Redis is 6.2, which takes the
 * script path in RedisGateTest). Runs against Debian's {@code redis-server} (7.x) started here on a
 * free port; skips with a message where it is missing or older.
 */
@ExtendWith(FleetTestKit.class)
class NativeFastPathTest {
  private static LocalRedisServer server;
  private static URI url;

  @BeforeAll
  static void startRedis7() throws Exception {
    Optional<String> missing = LocalRedisServer.missing();
    assumeTrue(missing.isEmpty(), () -> missing.orElse(""));
    server = LocalRedisServer.start();
    url = server.url;
    assumeTrue(
        server.majorVersion() >= 7,
        "redis-server is older than 7.0: the native fast path needs SET NX GET");
  }

  @AfterAll
  static void stopRedis() {
    if (server != null) server.close();
  }

  private static Worker start(FleetHarness h, String id, Map<String, TaskHandler> handlers) {
    FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
    return Worker.start(
        h.settings(id, 32).withRedis(Optional.of(url)),
        config,
        HandlerRegistry.create(config, handlers),
        WorkerMetrics.NONE);
  }

  private static long calls(String command) {
    try (Jedis j = new Jedis(url)) {
      for (String line : j.info("commandstats").split("\\r?\\n")) {
        if (line.startsWith("cmdstat_" + command + ":calls=")) {
          String v = line.substring(("cmdstat_" + command + ":calls=").length());
          return Long.parseLong(v.substring(0, v.indexOf(',')));
        }
      }
      return 0;
    }
  }

  /** With native commands too, an item whose key holds a hash is FAILED alone; the rest run. */
  @Test
  void anItemWhoseKeyHoldsAnotherTypeFailsAloneOnTheNativePath(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    String bad = RedisKeys.defaultItemKey(fleet.prefix(), "job-nwt", "n-2");
    try (Jedis j = new Jedis(url)) {
      j.hset(bad, "someone", "else");
      j.pexpire(bad, 120_000);
    }
    long setGets = calls("set");
    h.produce("job-nwt", "t", List.of("n-1", "n-2", "n-3"));
    try (Worker w = start(h, "w-nwt", Map.of("t", RedisGateTest.counting(runs)))) {
      assertThat(RedisGateTest.awaitTotal(h, "job-nwt", 3))
          .isEqualTo(new OutcomeCounts(2, 0, 1, 0, 0));
    }
    assertThat(calls("set")).isGreaterThan(setGets); // the native path, not a script
    assertThat(runs).containsOnlyKeys("n-1", "n-3");
    assertThat(h.failures())
        .filteredOn(e -> e.job().equals(Optional.of("job-nwt")))
        .singleElement()
        .satisfies(e -> assertThat(e.errorClass()).isEqualTo("redis.wrong_type"));
  }

  @Test
  void aSecondMessageIsDeduplicatedWithNativeCommandsAndNoScript(TestFleet fleet) {
    try (Jedis j = new Jedis(url)) {
      j.configResetStat();
    }
    FleetHarness h = new FleetHarness(fleet, 4);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-n", "t", FleetHarness.ids(500));
    h.produce("job-n", "t", FleetHarness.ids(500));
    try (Worker w = start(h, "w-native", Map.of("t", RedisGateTest.counting(runs)))) {
      assertThat(RedisGateTest.awaitTotal(h, "job-n", 1000))
          .isEqualTo(new OutcomeCounts(500, 0, 0, 500, 0));
    }
    assertThat(runs).hasSize(500).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
    // 1,000 claims and 500 markers, all native SETs; no script ran on the fast path.
    assertThat(calls("set")).isGreaterThanOrEqualTo(1500);
    assertThat(calls("evalsha")).isZero();
    try (Jedis j = new Jedis(url)) {
      String marker = j.get(fleet.redisKeyPrefix() + "item:job-n:item-7");
      assertThat(marker).startsWith("D|SUCCEEDED|");
      assertThat(j.pttl(fleet.redisKeyPrefix() + "item:job-n:item-7")).isPositive();
    }
  }

  @Test
  void aRedeliveredFinishingRecordReEmitsItsOutcomeAndAnotherIsDeduplicated(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    h.produce("job-nr", "t", List.of("a", "b"));
    String tasks = h.topics.tasks();
    try (Jedis r = new Jedis(url)) {
      String p = fleet.redisKeyPrefix();
      r.set(p + "item:job-nr:a", "D|FAILED|" + tasks + "|0|0|3|http.500|boom");
      r.set(p + "item:job-nr:b", "D|SUCCEEDED|" + tasks + "|0|99|1||");
    }
    try (Worker w = start(h, "w-native-r", Map.of("t", RedisGateTest.counting(runs)))) {
      assertThat(RedisGateTest.awaitTotal(h, "job-nr", 2))
          .isEqualTo(new OutcomeCounts(0, 0, 1, 1, 0));
    }
    assertThat(runs).isEmpty();
  }

  @Test
  void anotherWorkersLeaseMakesTheItemWaitUntilItExpires(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    try (Jedis r = new Jedis(url)) {
      r.set(
          fleet.redisKeyPrefix() + "item:job-nl:a",
          "L|dead-worker|x|0|0",
          SetParams.setParams().px(1500));
    }
    h.produce("job-nl", "t", List.of("a"));
    long t0 = System.nanoTime();
    try (Worker w = start(h, "w-native-l", Map.of("t", RedisGateTest.counting(runs)))) {
      assertThat(RedisGateTest.awaitTotal(h, "job-nl", 1).succeeded()).isEqualTo(1);
    }
    assertThat(runs.get("a").get()).isEqualTo(1);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(1400));
  }
}
