package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.embedded.LocalRedisCluster;
import io.itemfleet.embedded.LocalRedisServer;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code fleet replay}: failed items run again as a new run of their job, items done since are
 * skipped, replayed successes resolve their failure rows, and totals stay exact.
 */
@ExtendWith(FleetTestKit.class)
class ReplayTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void replayedFailuresRunAgainResolveTheirRowsAndKeepTotalsExact(TestFleet f) throws Exception {
    replayScenario(f, f.redisUrl(), List.of("5"), "keys");
  }

  /**
   * The same on one server with markers in buckets: a replayed item is checked by the GATE script,
   * yet its done marker goes into its bucket with the others (a worker once failed on that mix).
   */
  @Test
  void replayedFailuresWithMarkersInBucketsOnOneServer(TestFleet f) throws Exception {
    Optional<String> missing = LocalRedisServer.missing();
    assumeTrue(missing.isEmpty(), () -> "no local redis-server: " + missing.orElse(""));
    try (LocalRedisServer redis = LocalRedisServer.start()) {
      assumeTrue(redis.majorVersion() >= 7, "the buckets layout needs Redis 7");
      replayScenario(f, redis.url.toString(), List.of("5"), "buckets");
    }
  }

  /**
   * The same on a Redis Cluster of three masters, with markers in buckets: the worker's markers and
   * replay's reads of them go to the node of each bucket's slot (items 5, 7 and 11 done since).
   */
  @Test
  void replayReadsDoneMarkersOnARedisCluster(TestFleet f) throws Exception {
    Optional<String> missing = LocalRedisCluster.missing();
    assumeTrue(missing.isEmpty(), () -> "no local Redis Cluster: " + missing.orElse(""));
    try (LocalRedisCluster cluster =
        LocalRedisCluster.start(Files.createTempDirectory("itemfleet-replay-cluster-"), 3)) {
      replayScenario(f, cluster.url(), List.of("5", "7", "11"), "buckets:16");
    }
  }

  private static void replayScenario(
      TestFleet f, String redisUrl, List<String> doneSince, String markers) throws Exception {
    MarkerLayout layout = MarkerLayout.parse(markers);
    AtomicBoolean broken = new AtomicBoolean(true);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Map<String, String> lastPayload = new ConcurrentHashMap<>();
    TaskHandler api =
        ctx -> {
          runs.computeIfAbsent(ctx.item(), k -> new AtomicInteger()).incrementAndGet();
          lastPayload.put(ctx.item(), ctx.payloadJson());
          int n = Integer.parseInt(ctx.item());
          return broken.get() && n <= 20
              ? HandlerResult.failed("api.gone", "item " + n + " not found")
              : HandlerResult.succeeded();
        };
    // Payloads too: a replay sends each item's stored payload (read a batch at a time).
    ProduceCommandTest.produceRange(f, 2, "rep", "t", 200, "--payload", "{\"n\":\"${item}\"}");
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    try (Worker w =
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "rep", 16)
                    .withRedis(Optional.of(RedisClients.parse(redisUrl)))
                    .withMarkerLayout(layout),
                config,
                HandlerRegistry.create(config, Map.of("t", api)),
                WorkerMetrics.NONE);
        Recorder rec =
            Recorder.start(
                RecorderSettings.defaults(
                    kafka, topics, new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword())),
                Duration.ofSeconds(30))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> status(f).path("done").asBoolean());
      assertThat(status(f).get("failed").asLong()).isEqualTo(20);
      // These succeeded since by another route: their done markers say so, and replay skips them.
      try (UnifiedJedis r = RedisClients.open(RedisClients.parse(redisUrl))) {
        for (String item : doneSince) {
          MarkerLayout.Place at = layout.defaultPlace(f.prefix(), "rep", item);
          String marker = "D|SUCCEEDED|" + topics.tasks() + "|0|999|1||";
          if (at.field().isEmpty()) {
            r.set(at.key(), marker);
          } else {
            r.hset(at.key(), at.field(), marker);
          }
        }
      }
      broken.set(false);

      var replay = cli(f, "replay", "rep", "--redis-url", redisUrl, "--redis-markers", markers);
      assertThat(replay.code()).as(replay.err()).isZero();
      int replayed = 20 - doneSince.size();
      assertThat(replay.err())
          .contains(replayed + " to replay, " + doneSince.size() + " done already");

      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  status(f).path("total").asLong() == 200 + replayed
                      && status(f).path("done").asBoolean());
      JsonNode s = status(f);
      assertThat(s.get("succeeded").asLong()).isEqualTo(180 + replayed);
      assertThat(s.get("failed").asLong()).isEqualTo(20);
      assertThat(s.get("deduplicated").asLong()).isZero();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> cli(f, "failures", "rep", "--json").out().trim().equals("[]"));
      // Every failure is resolved now: status says so, and points nowhere.
      assertThat(status(f).get("resolved").asLong()).isEqualTo(20);
      var text = cli(f, "status", "rep");
      assertThat(text.out()).contains("resolved      20").doesNotContain("see: fleet failures");
    }
    assertThat(runs.get("3").get()).isEqualTo(2);
    assertThat(lastPayload.get("3")).isEqualTo("{\"n\":\"3\"}"); // the replay's, as stored
    for (String item : doneSince) assertThat(runs.get(item).get()).isEqualTo(1);
    assertThat(runs.get("150").get()).isEqualTo(1);
  }

  private static ProduceCommandTest.Run cli(TestFleet f, String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(
        List.of("--db-url", f.jdbcUrl(), "--db-user", f.dbUser(), "--db-password", f.dbPassword()));
    if (args[0].equals("replay")) {
      a.addAll(List.of("--bootstrap", f.kafkaBootstrap(), "--topic-prefix", f.prefix()));
    }
    return ProduceCommandTest.fleet(a.toArray(String[]::new));
  }

  private static JsonNode status(TestFleet f) throws Exception {
    var r = cli(f, "status", "rep", "--json");
    if (r.code() != 0) return JSON.createObjectNode();
    return JSON.readTree(r.out());
  }
}
