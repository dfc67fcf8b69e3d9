package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.embedded.LocalRedisCluster;
import io.itemfleet.embedded.LocalRedisSentinel;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * A Redis primary with a replica behind a Sentinel ({@code redis-sentinel://} URL), failed over to
 * the replica mid-run: the worker follows the Sentinel to the new primary, no item runs twice or
 * goes missing, and, since each pass's done markers are acknowledged by the replica before their
 * outcomes are committed ({@code FLEET_REDIS_REPLICAS_ACK=1}), the new primary has every marker: a
 * second copy of every item is deduplicated. Skips where redis-server or redis-cli is missing.
 */
@ExtendWith(FleetTestKit.class)
class SentinelFailoverTest {

  /**
   * The client the worker's checkpoints, {@code fleet replay} and the recorder's marker expiry use
   * ({@link RedisClients#open}) follows the Sentinels too: plain and pipelined commands reach the
   * primary before and after a failover.
   */
  @Test
  void theSharedClientFollowsTheSentinelsThroughAFailover() throws Exception {
    Optional<String> missing = LocalRedisCluster.missing();
    assumeTrue(missing.isEmpty(), () -> "no local Sentinel: " + missing.orElse(""));
    try (LocalRedisSentinel redis =
            LocalRedisSentinel.start(Files.createTempDirectory("itemfleet-sentinel-client-"));
        UnifiedJedis client = RedisClients.open(RedisClients.parse(redis.url()))) {
      client.set("before", "1");
      await() // replicated, so that the promoted replica has it
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  LocalRedisCluster.cli(redis.replicaPort(), "GET", "before").strip().equals("1"));
      redis.failover();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(client.set("after", "2")).isEqualTo("OK"));
      try (AbstractPipeline p = client.pipelined()) {
        Response<String> before = p.get("before");
        Response<String> after = p.get("after");
        p.sync();
        assertThat(before.get()).isEqualTo("1"); // replicated before the failover
        assertThat(after.get()).isEqualTo("2");
      }
      assertThat(LocalRedisCluster.cli(redis.replicaPort(), "GET", "after").strip()).isEqualTo("2");
    }
  }

  @Test
  void aFailoverMidRunLosesNoMarkerAndRunsNothingTwice(TestFleet fleet) throws Exception {
    Optional<String> missing = LocalRedisCluster.missing();
    assumeTrue(missing.isEmpty(), () -> "no local Sentinel: " + missing.orElse(""));
    try (LocalRedisSentinel redis =
        LocalRedisSentinel.start(Files.createTempDirectory("itemfleet-sentinel-"))) {
      FleetHarness h = new FleetHarness(fleet, 4);
      Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
      TaskHandler slowish =
          ctx -> {
            Thread.sleep(10);
            return RedisGateTest.counting(runs).handle(ctx);
          };
      FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
      h.produce("job-sf", "t", FleetHarness.ids(4000));
      int before = redis.primaryPort();
      try (Worker w =
          Worker.start(
              h.settings("w-sf", 32)
                  .withRedis(Optional.of(RedisClients.parse(redis.url())))
                  .withRedisReplicasAck(1),
              config,
              HandlerRegistry.create(config, Map.of("t", slowish)),
              WorkerMetrics.NONE)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> runs.size() >= 500);
        redis.failover();
        assertThat(RedisGateTest.awaitTotal(h, "job-sf", 4000))
            .isEqualTo(new OutcomeCounts(4000, 0, 0, 0, 0));
        assertThat(redis.primaryPort()).isNotEqualTo(before).isEqualTo(redis.replicaPort());
        // Every marker survived on the new primary: a second copy of each item is deduplicated.
        h.produce("job-sf", "t", FleetHarness.ids(4000));
        assertThat(RedisGateTest.awaitTotal(h, "job-sf", 8000))
            .isEqualTo(new OutcomeCounts(4000, 0, 0, 4000, 0));
      }
      assertThat(runs).hasSize(4000).allSatisfy((item, n) -> assertThat(n.get()).isEqualTo(1));
    }
  }
}
