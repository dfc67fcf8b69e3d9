package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline: {@code fleet produce}, a worker, and {@code fleet recorder} in its own JVM,
 * killed with SIGKILL mid-ingest and restarted; then {@code fleet status} and {@code fleet
 * failures} show exact totals.
 */
@ExtendWith(FleetTestKit.class)
class PipelineTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void sigkilledRecorderRestartedYieldsExactTotalsAndTheCliShowsThem(TestFleet f) throws Exception {
    int items = 20_000;
    ProduceCommandTest.produceRange(f, 4, "pipe", "sim", items);

    String yaml =
        """
        types:
          sim:
            handler: simulate
            permanentFailureRate: 0.1
        """;
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    try (Worker w =
        Worker.start(
            WorkerSettings.defaults(
                Map.of("bootstrap.servers", f.kafkaBootstrap()),
                new FleetTopics(f.prefix()),
                "pipe",
                64),
            config,
            HandlerRegistry.create(config, Map.of()),
            WorkerMetrics.NONE)) {
      // Let the worker finish first, so that the whole backlog waits for the recorder.
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> workerTotal(f) >= items);
      Process first = startRecorder(f, "first.log");
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> failureRows(f) > 0);
      first.destroyForcibly(); // SIGKILL, most likely mid-batch
      first.waitFor();
      long atKill = failureRows(f);

      Process second = startRecorder(f, "second.log");
      try {
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> status(f).path("done").asBoolean());
      } finally {
        second.destroy(); // SIGTERM
        second.waitFor();
      }
      JsonNode s = status(f);
      assertThat(s.get("job").asText()).isEqualTo("pipe");
      assertThat(s.get("total").asLong()).isEqualTo(items);
      long failed = s.get("failed").asLong();
      assertThat(s.get("succeeded").asLong() + failed)
          .as("counted exactly once after the recorder's SIGKILL and restart")
          .isEqualTo(items);
      for (String k : List.of("cached", "deduplicated", "poison", "retries")) {
        assertThat(s.get(k).asLong()).as(k).isZero();
      }
      assertThat(failed).isBetween(1600L, 2400L); // 10% of 20,000, by item hash
      assertThat(atKill).as("killed mid-ingest").isLessThan(failed);
      assertThat(failureRows(f)).isEqualTo(failed);

      var failures = cli(f, "failures", "pipe", "--json");
      assertThat(failures.code()).as(failures.err()).isZero();
      JsonNode groups = JSON.readTree(failures.out());
      assertThat(groups).hasSize(1); // one cause: the simulated permanent failure
      assertThat(groups.get(0).get("count").asLong()).isEqualTo(failed);
      assertThat(groups.get(0).get("errorClass").asText()).isEqualTo("simulated.permanent");

      var text = cli(f, "status", "pipe");
      assertThat(text.out())
          .contains("done at")
          .contains("failed")
          .contains(Terminal.count(failed));
      var unknown = cli(f, "status", "no-such-job");
      assertThat(unknown.code()).isEqualTo(1);
      assertThat(unknown.err()).contains("no job 'no-such-job'").contains("pipe");
    }
  }

  private static ProduceCommandTest.Run cli(TestFleet f, String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(
        List.of("--db-url", f.jdbcUrl(), "--db-user", f.dbUser(), "--db-password", f.dbPassword()));
    return ProduceCommandTest.fleet(a.toArray(String[]::new));
  }

  private static JsonNode status(TestFleet f) throws Exception {
    var r = cli(f, "status", "pipe", "--json");
    if (r.code() != 0) return JSON.createObjectNode();
    return JSON.readTree(r.out());
  }

  private static long failureRows(TestFleet f) {
    try (var c = f.connect();
        var st = c.createStatement();
        var r = st.executeQuery("select count(*) from fleet_failures")) {
      r.next();
      return r.getLong(1);
    } catch (java.sql.SQLException e) {
      return 0; // no ledger yet
    }
  }

  /** Outcomes the worker committed to the stats topic. */
  private static long workerTotal(TestFleet f) {
    var codec = new io.itemfleet.schemas.MessageCodec();
    long n = 0;
    for (var r : f.readCommitted(new FleetTopics(f.prefix()).stats())) {
      n += codec.decodeStats(r.value()).orThrow().counts().total();
    }
    return n;
  }

  private Process startRecorder(TestFleet f, String log) throws Exception {
    // Small polls make many small transactions, so that the SIGKILL lands mid-ingest.
    Path props = tmp.resolve("recorder.properties");
    java.nio.file.Files.writeString(props, "max.poll.records=20\nsession.timeout.ms=6000\n");
    return FleetProcess.start(
        tmp.resolve(log),
        "recorder",
        "--bootstrap",
        f.kafkaBootstrap(),
        "--topic-prefix",
        f.prefix(),
        "--partitions",
        "4",
        "--kafka-properties",
        props.toString(),
        "--db-url",
        f.jdbcUrl(),
        "--db-user",
        f.dbUser(),
        "--db-password",
        f.dbPassword(),
        "--metrics-port",
        "-1");
  }
}
