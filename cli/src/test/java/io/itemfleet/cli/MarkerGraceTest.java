package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.embedded.LocalRedisServer;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.MarkerExpiry;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * {@code FLEET_MARKER_GRACE}: when the recorder publishes a job's completion, the job's done
 * markers (its bucket hashes) get a TTL of the grace period instead of the 7-day idempotency TTL; a
 * job still running keeps its markers' full TTL. On Debian's redis-server 7, started here.
 */
@ExtendWith(FleetTestKit.class)
class MarkerGraceTest {

  @Test
  void aCompletedJobsMarkersExpireAfterTheGracePeriodAndAnotherJobsDoNot(TestFleet f)
      throws Exception {
    Optional<String> missing = LocalRedisServer.missing();
    assumeTrue(missing.isEmpty(), () -> missing.orElse(""));
    MarkerLayout layout = MarkerLayout.buckets(32);
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    try (LocalRedisServer redis = LocalRedisServer.start();
        MarkerExpiry expiry =
            new MarkerExpiry(redis.url, layout, f.prefix(), Duration.ofMinutes(2));
        Recorder rec =
            Recorder.start(
                RecorderSettings.defaults(
                    kafka, topics, new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword())),
                Duration.ofSeconds(30),
                j -> expiry.jobCompleted(j.job()))) {
      // An open-ended job (no expected total) never completes; "grace" does.
      try (Jedis r = new Jedis(redis.url)) {
        r.hset(layout.bucketKey(f.prefix(), "open", 3), "x", "D|SUCCEEDED|t|0|1|1||");
        r.pexpire(layout.bucketKey(f.prefix(), "open", 3), Duration.ofDays(7).toMillis());
      }
      ProduceCommandTest.produceRange(f, 2, "grace", "t", 300);
      try (Worker w =
          Worker.start(
              WorkerSettings.defaults(kafka, topics, "grace", 16)
                  .withRedis(Optional.of(redis.url))
                  .withMarkerLayout(layout),
              config,
              HandlerRegistry.create(config, Map.of("t", ctx -> HandlerResult.succeeded())),
              WorkerMetrics.NONE)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .untilAsserted(
                () -> {
                  try (Jedis r = new Jedis(redis.url)) {
                    Set<String> buckets = r.keys(f.prefix() + ":m:grace:*");
                    assertThat(buckets).hasSize(32);
                    for (String b : buckets) {
                      assertThat(r.pttl(b)).isBetween(1L, Duration.ofMinutes(2).toMillis());
                    }
                  }
                });
      }
      try (Jedis r = new Jedis(redis.url)) {
        assertThat(r.pttl(layout.bucketKey(f.prefix(), "open", 3)))
            .isGreaterThan(Duration.ofDays(6).toMillis());
      }
    }
  }
}
