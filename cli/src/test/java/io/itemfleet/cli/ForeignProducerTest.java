package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Jobs whose items other clients send: the Python producer helper, and fleet jobs close. */
@ExtendWith(FleetTestKit.class)
class ForeignProducerTest {
  static final Path CLIENT = Path.of("..", "clients", "python").toAbsolutePath().normalize();

  @TempDir Path tmp;

  /** A Python that can import confluent_kafka, or null. */
  static String pythonWithKafka() {
    for (String p : List.of("/usr/bin/python3", "python3")) {
      try {
        Process pr = new ProcessBuilder(p, "-c", "import confluent_kafka").start();
        if (pr.waitFor(30, TimeUnit.SECONDS) && pr.exitValue() == 0) return p;
      } catch (Exception ignored) {
        // try the next
      }
    }
    return null;
  }

  private static void withFleet(TestFleet f, java.util.function.Consumer<LedgerQueries> body)
      throws Exception {
    FleetTopics topics = new FleetTopics(f.prefix());
    f.createTopics(
        4,
        topics.all().stream()
            .map(t -> t.substring(f.prefix().length() + 1))
            .toArray(String[]::new));
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.parse("types:\n  t: {handler: noop}\n", TaskSettings.DEFAULTS);
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (Worker w =
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "foreign", 16),
                config,
                HandlerRegistry.create(config, Map.of()),
                WorkerMetrics.NONE);
        Recorder rec =
            Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofSeconds(30));
        HikariDataSource pool = LedgerDatabase.pool(db, 2, "foreign-test")) {
      body.accept(new LedgerQueries(pool));
    }
  }

  @Test
  void aJobProducedFromPythonGetsItsTotalAndCompletes(TestFleet f) throws Exception {
    String python = pythonWithKafka();
    assumeThat(python)
        .as("no python3 with confluent_kafka (Debian: apt-get install python3-confluent-kafka)")
        .isNotNull();
    Path script = tmp.resolve("produce.py");
    Files.writeString(
        script,
        """
        import sys
        sys.path.insert(0, %s)
        import itemfleet
        n = itemfleet.produce("py-job", "t", ("video-%%d" %% i for i in range(1000)),
                              bootstrap=%s, topic_prefix=%s, labels={"source": "test"})
        print("sent", n)
        """
            .formatted(q(CLIENT.toString()), q(f.kafkaBootstrap()), q(f.prefix())));
    withFleet(
        f,
        ledger -> {
          try {
            Process p =
                new ProcessBuilder(python, script.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("py.log").toFile())
                    .start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(tmp.resolve("py.log"))).isZero();
            assertThat(Files.readString(tmp.resolve("py.log"))).contains("sent 1000");
            await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> ledger.job("py-job").map(JobStatus::done).orElse(false));
            JobStatus s = ledger.job("py-job").orElseThrow();
            assertThat(s.total()).contains(1000L);
            assertThat(s.counts().succeeded()).isEqualTo(1000);
            assertThat(s.labels()).containsEntry("source", "test");
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  @Test
  void jobsCloseGivesAJobOfPlainIdsItsTotalAndWatchSaysWhyItLacksOne(TestFleet f) throws Exception {
    withFleet(
        f,
        ledger -> {
          try {
            try (KafkaProducer<String, byte[]> p =
                new KafkaProducer<>(
                    Map.of("bootstrap.servers", f.kafkaBootstrap()),
                    new StringSerializer(),
                    new ByteArraySerializer())) {
              for (int i = 0; i < 50; i++) {
                ProducerRecord<String, byte[]> r =
                    new ProducerRecord<>(
                        f.prefix() + ".tasks", "i" + i, ("i" + i).getBytes(StandardCharsets.UTF_8));
                r.headers().add(FleetHeaders.JOB, "plain".getBytes(StandardCharsets.UTF_8));
                r.headers().add(FleetHeaders.TYPE, "t".getBytes(StandardCharsets.UTF_8));
                p.send(r);
              }
            }
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> ledger.job("plain").map(s -> s.finished() == 50).orElse(false));
            String[] db = {
              "--db-url", f.jdbcUrl(), "--db-user", f.dbUser(), "--db-password", f.dbPassword()
            };
            var watch =
                ProduceCommandTest.fleet(
                    concat(new String[] {"watch", "plain", "--timeout", "2s"}, db));
            assertThat(watch.err())
                .contains("job plain has no total yet")
                .contains("fleet jobs close plain --type t --count N");
            var close = closePlain(f);
            assertThat(close.code()).as(close.err()).isZero();
            assertThat(close.out()).contains("manifest plain/close published, 50 items");
            // Published twice (a nervous operator): still counted once.
            closePlain(f);
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> ledger.job("plain").map(JobStatus::done).orElse(false));
            assertThat(ledger.job("plain").orElseThrow().total()).contains(50L);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  /** {@code fleet jobs close plain --type t --count 50} against this test's fleet. */
  private static ProduceCommandTest.Run closePlain(TestFleet f) {
    return ProduceCommandTest.fleet(
        "jobs",
        "close",
        "plain",
        "--type",
        "t",
        "--count",
        "50",
        "--bootstrap",
        f.kafkaBootstrap(),
        "--topic-prefix",
        f.prefix());
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static String q(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
