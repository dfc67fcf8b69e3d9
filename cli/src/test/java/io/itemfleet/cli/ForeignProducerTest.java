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
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
    String python = requirePython();
    Path script =
        clientScript(
            "produce.py",
            """
            n = itemfleet.produce("py-job", "t", ("video-%%d" %% i for i in range(1000)),
                                  bootstrap=%s, topic_prefix=%s, labels={"source": "test"})
            print("sent", n)
            """
                .formatted(q(f.kafkaBootstrap()), q(f.prefix())));
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

  /**
   * The Python producer sends compact items by default, the plain form with headers when
   * FLEET_RECORD_FORM (or record_form) asks for it, and refuses any other form before sending.
   */
  @Test
  void pythonSendsCompactItemsByDefaultAndHeadersWhenAsked(TestFleet f) throws Exception {
    String python = requirePython();
    Path script =
        clientScript(
            "forms.py",
            """
            job, form = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
            n = itemfleet.produce(job, "t", ("i-%%d" %% i for i in range(50)),
                                  bootstrap=%s, topic_prefix=%s, record_form=form)
            print("sent", n)
            """
                .formatted(q(f.kafkaBootstrap()), q(f.prefix())));
    withFleet(
        f,
        ledger -> {
          try {
            assertThat(runPython(python, script, Map.of(), "py-compact")).contains("sent 50");
            assertThat(
                    runPython(python, script, Map.of("FLEET_RECORD_FORM", "headers"), "py-headed"))
                .contains("sent 50");
            String refused =
                runPython(python, script, Map.of("FLEET_RECORD_FORM", "headers"), "py-no", "json");
            assertThat(refused).contains("record_form must be 'compact' or 'headers'");
            String refusedEnv =
                runPython(python, script, Map.of("FLEET_RECORD_FORM", "avro"), "py-no");
            assertThat(refusedEnv).contains("FLEET_RECORD_FORM must be 'compact' or 'headers'");
            for (String job : List.of("py-compact", "py-headed")) {
              await()
                  .atMost(Duration.ofSeconds(90))
                  .until(() -> ledger.job(job).map(JobStatus::done).orElse(false));
              assertThat(ledger.job(job).orElseThrow().counts().succeeded()).isEqualTo(50);
            }
            assertThat(ledger.job("py-no")).isEmpty();
            int compact = 0;
            int headed = 0;
            for (ConsumerRecord<byte[], byte[]> r : f.readCommitted(f.prefix() + ".tasks")) {
              if (r.headers().lastHeader(FleetHeaders.JOB) == null) {
                assertThat(r.value()[0]).isEqualTo((byte) 0x1E);
                assertThat(new String(r.value(), StandardCharsets.UTF_8))
                    .isEqualTo("\u001Epy-compact\u001Ft\u001F" + new String(r.key()));
                compact++;
              } else {
                assertThat(r.headers().lastHeader(FleetHeaders.JOB).value())
                    .isEqualTo("py-headed".getBytes(StandardCharsets.UTF_8));
                assertThat(r.value()).isEqualTo(r.key());
                headed++;
              }
            }
            assertThat(compact).isEqualTo(50);
            assertThat(headed).isEqualTo(50);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  /**
   * produce() checks every item before sending any, as fleet produce does. Before: bytes (lines of
   * a file opened "rb") went out as "b'1\\n'", a lone surrogate raised UnicodeEncodeError half way
   * with earlier items sent and no manifest, control characters went out to become POISON, and a
   * job name with a bidi override was sent (every item POISON) while produce() reported success.
   */
  @Test
  void pythonChecksEveryItemBeforeSendingAnyAndReadsBytes(TestFleet f) throws Exception {
    String python = requirePython();
    f.createTopics(1, "tasks", "jobs");
    Path script =
        clientScript(
            "checks.py",
            """
            mode = sys.argv[1]
            cases = {
                "bytes": ("py-bytes", [b"1\\n", b"2\\r\\n", bytearray(b"3")]),
                "bad": ("py-bad", ["a", "b\\udc80", "c\\x07", "x" * 1025, "d\\u202e", "ok"]),
                "name": ("x\\u202ey", ["a"]),
                "fffd": ("caf\\ufffd", ["a"]),
                "label": ("py-label", ["a"]),
            }
            job, items = cases[mode]
            labels = {"note": ""} if mode == "label" else None
            try:
                n = itemfleet.produce(
                    job, "t", items, bootstrap=%s, topic_prefix=%s, labels=labels)
                print("sent", n)
            except ValueError as e:
                print("refused:", e)
            """
                .formatted(q(f.kafkaBootstrap()), q(f.prefix())));
    assertThat(runPython(python, script, Map.of(), "bytes")).contains("sent 3");
    String bad = runPython(python, script, Map.of(), "bad");
    assertThat(bad)
        .contains("refused: 4 bad item ID(s), nothing sent")
        .contains("control character U+202E")
        .contains("item 1")
        .contains("unpaired surrogate U+DC80")
        .contains("control character U+0007")
        .contains("1025 bytes");
    assertThat(runPython(python, script, Map.of(), "name"))
        .contains("refused: the job name contains control character U+202E");
    // Bytes that were not UTF-8 on their way ('caf\xE9', 'caf\xE8' decoded leniently) are one job.
    assertThat(runPython(python, script, Map.of(), "fffd"))
        .contains("refused: the job name contains U+FFFD, the replacement character, at index 3");
    // A label the recorder refuses would leave the job without its total: refused first.
    assertThat(runPython(python, script, Map.of(), "label"))
        .contains("refused: label note: the value must be a string of 1 to 4096 characters");
    List<String> items = new java.util.ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : f.readCommitted(f.prefix() + ".tasks")) {
      items.add(new String(r.value(), StandardCharsets.UTF_8));
    }
    assertThat(items)
        .containsExactlyInAnyOrder(
            "\u001Epy-bytes\u001Ft\u001F1",
            "\u001Epy-bytes\u001Ft\u001F2",
            "\u001Epy-bytes\u001Ft\u001F3");
  }

  /** The Python to run the client with; the test is skipped, saying why, without one. */
  private static String requirePython() {
    String python = pythonWithKafka();
    assumeThat(python)
        .as("no python3 with confluent_kafka (Debian: apt-get install python3-confluent-kafka)")
        .isNotNull();
    return python;
  }

  /** A script in the test's directory that imports the client, then runs {@code body}. */
  private Path clientScript(String name, String body) throws java.io.IOException {
    Path script = tmp.resolve(name);
    Files.writeString(
        script,
        "import sys\nsys.path.insert(0, " + q(CLIENT.toString()) + ")\nimport itemfleet\n" + body);
    return script;
  }

  /** Runs the script with extra environment; its output, stdout and stderr together. */
  private String runPython(String python, Path script, Map<String, String> env, String... args)
      throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(python, script.toString()));
    cmd.addAll(List.of(args));
    Path log = tmp.resolve("py-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("FLEET_RECORD_FORM");
    pb.environment().putAll(env);
    Process p = pb.redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return Files.readString(log);
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
