package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.HeaderLookup;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(FleetTestKit.class)
class ProduceCommandTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run fleet(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      var cl = FleetCommand.commandLine();
      cl.setErr(new java.io.PrintWriter(System.err, true));
      int code = cl.execute(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** {@code fleet produce} of the item range {@code 1..n} to this test's topics; must succeed. */
  static void produceRange(TestFleet f, int partitions, String job, String type, int n) {
    produceRange(f, partitions, job, type, n, new String[0]);
  }

  /** As above, with more {@code fleet produce} options. */
  static void produceRange(
      TestFleet f, int partitions, String job, String type, int n, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "produce",
                "--bootstrap",
                f.kafkaBootstrap(),
                "--topic-prefix",
                f.prefix(),
                "--partitions",
                Integer.toString(partitions),
                "--job",
                job,
                "--type",
                type,
                "--range",
                "1.." + n));
    args.addAll(List.of(more));
    Run r = fleet(args.toArray(String[]::new));
    org.assertj.core.api.Assertions.assertThat(r.code()).as(r.err()).isZero();
  }

  private static String[] args(TestFleet f, String... rest) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "produce",
                "--bootstrap",
                f.kafkaBootstrap(),
                "--topic-prefix",
                f.prefix(),
                "--partitions",
                "3"));
    a.addAll(List.of(rest));
    return a.toArray(String[]::new);
  }

  @Test
  void rangeIsEnqueuedWithOptionsAndASummaryLine(TestFleet f) {
    Run r =
        fleet(
            args(
                f,
                "--job",
                "j1",
                "--type",
                "sim",
                "--range",
                "1..500",
                "--retries",
                "2",
                "--retry-delays",
                "1s,2s",
                "--payload",
                "{\"url\":\"s3://b/${item}.mp4\"}",
                "--label",
                "codeVersion=7"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).matches("(?s)enqueued 500 items to job j1 in [0-9.]+ s \\([0-9,]+/s\\)\\n");
    List<ConsumerRecord<String, byte[]>> records = read(f, f.topic("tasks"), 500);
    TaskMessage t =
        new MessageCodec().decodeTask(records.get(0).value(), HeaderLookup.NONE).orThrow();
    assertThat(t.options().retries()).hasValue(2);
    assertThat(t.payload().get("url").asText()).isEqualTo("s3://b/" + t.item() + ".mp4");
    JobManifest m =
        (JobManifest)
            new MessageCodec().decodeJobEvent(read(f, f.topic("jobs"), 1).get(0).value()).orThrow();
    assertThat(m.count()).isEqualTo(500);
    assertThat(m.labels()).isEqualTo(Map.of("codeVersion", "7"));
  }

  @Test
  void itemsGoOutCompactByDefaultAndWithHeadersOnRequest(TestFleet f) {
    Run compact = fleet(args(f, "--job", "c1", "--type", "sim", "--range", "1..3"));
    assertThat(compact.code()).as(compact.err()).isZero();
    Run headers =
        fleet(
            args(f, "--job", "h1", "--type", "sim", "--range", "4..6", "--record-form", "headers"));
    assertThat(headers.code()).as(headers.err()).isZero();
    MessageCodec codec = new MessageCodec();
    for (ConsumerRecord<String, byte[]> r : read(f, f.topic("tasks"), 6)) {
      int item = Integer.parseInt(r.key());
      TaskMessage t =
          codec
              .decodeTask(
                  r.value(),
                  name ->
                      java.util.Optional.ofNullable(r.headers().lastHeader(name))
                          .map(h -> new String(h.value(), StandardCharsets.UTF_8)))
              .orThrow();
      assertThat(t.item()).isEqualTo(r.key());
      if (item <= 3) {
        assertThat(r.value()[0]).isEqualTo(MessageCodec.COMPACT);
        assertThat(r.headers().toArray()).isEmpty();
        assertThat(t.job()).isEqualTo("c1");
      } else {
        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo(r.key());
        assertThat(r.headers().lastHeader("fleet-job").value()).isEqualTo("h1".getBytes());
        assertThat(t.job()).isEqualTo("h1");
      }
    }
    Run bad =
        fleet(args(f, "--job", "x", "--type", "sim", "--range", "1..2", "--record-form", "json"));
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--record-form must be 'compact' or 'headers', was 'json'");
  }

  @Test
  void badLinesInAFileSendNothingAndExit2(TestFleet f) throws Exception {
    Path ids = tmp.resolve("ids.txt");
    Files.writeString(ids, "a\n" + "x".repeat(2000) + "\nb\n");
    Run r = fleet(args(f, "--job", "j2", "--type", "sim", "--ids-file", ids.toString()));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("line 2: the item ID is 2000 bytes", "nothing was sent");
  }

  @Test
  void missingFileAndNoSourceAreUsageErrors(TestFleet f) {
    assertThat(
            fleet(
                    args(
                        f,
                        "--job",
                        "j",
                        "--type",
                        "t",
                        "--ids-file",
                        tmp.resolve("nope").toString()))
                .err())
        .contains("no such file");
    Run none = fleet(args(f, "--job", "j", "--type", "t"));
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("exactly one source");
  }

  @Test
  void emptyInputIsAnError(TestFleet f) throws Exception {
    Path ids = tmp.resolve("empty.txt");
    Files.writeString(ids, "# only a comment\n\n");
    Run r = fleet(args(f, "--job", "j", "--type", "t", "--ids-file", ids.toString()));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no item IDs");
  }

  @Test
  void unreachableBrokerExits3NamingTheAddress() {
    Run r =
        fleet(
            "produce",
            "--bootstrap",
            "127.0.0.1:1",
            "--job",
            "j",
            "--type",
            "t",
            "--range",
            "1..3",
            "--connect-timeout",
            "2s");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("127.0.0.1:1");
  }

  @Test
  void recordsTheBrokerRefusesMakeAPartialSendThatExits4(TestFleet f) throws Exception {
    Path props = tmp.resolve("client.properties");
    Files.writeString(props, "max.request.size=400\n");
    Path ids = tmp.resolve("ids.txt");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 50; i++) sb.append("ok-").append(i).append('\n');
    sb.append("y".repeat(900)).append('\n');
    Files.writeString(ids, sb.toString());
    Run r =
        fleet(
            args(
                f,
                "--job",
                "j4",
                "--type",
                "sim",
                "--ids-file",
                ids.toString(),
                "--kafka-properties",
                props.toString()));
    assertThat(r.code()).as(r.err()).isEqualTo(4);
    assertThat(r.err())
        .contains(
            "partial send: 50 of 51 items acknowledged",
            "re-running the whole input runs those again");
  }

  /**
   * Key templates are filled as a worker fills fleet.yaml's: an item ID "${job}" in job "J" made
   * the key "J:J" by plain replacement, the key of item "J", so one of the two was DEDUPLICATED
   * without running; and "a:b" in one job met "b" in job "a:". An unknown variable is refused.
   */
  @Test
  void keyTemplatesAreFilledSoThatNoItemCanTakeAnothersKey(TestFleet f) throws Exception {
    Path ids = tmp.resolve("keys.txt");
    Files.writeString(ids, "${job}\nJ\n");
    Run r =
        fleet(
            args(
                f,
                "--job",
                "J",
                "--type",
                "sim",
                "--ids-file",
                ids.toString(),
                "--idempotency-key",
                "${job}:${item}",
                "--cache-key",
                "${type}:${item}"));
    assertThat(r.code()).as(r.err()).isZero();
    Map<String, String> keyOf = new java.util.HashMap<>();
    for (ConsumerRecord<String, byte[]> rec : read(f, f.topic("tasks"), 2)) {
      TaskMessage t = new MessageCodec().decodeTask(rec.value(), HeaderLookup.NONE).orThrow();
      keyOf.put(t.item(), t.options().idempotencyKey().orElseThrow());
      assertThat(t.options().cacheKey())
          .hasValue(io.itemfleet.worker.config.KeyTemplate.expand("${type}:${item}", t));
    }
    assertThat(keyOf).containsOnlyKeys("${job}", "J");
    assertThat(keyOf.get("${job}")).isNotEqualTo(keyOf.get("J")).isEqualTo("J:${job}");
    Run bad =
        fleet(args(f, "--job", "J2", "--type", "sim", "--range", "1..2", "--cache-key", "${nope}"));
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown variable ${nope}");
    // One key for every item of the run: all but the first would be DEDUPLICATED unrun.
    Run shared =
        fleet(
            args(
                f, "--job", "J3", "--type", "sim", "--range", "1..2", "--idempotency-key", "$job"));
    assertThat(shared.code()).isEqualTo(2);
    assertThat(shared.err()).contains("--idempotency-key: '$' not followed by {name}");
  }

  @Test
  void duplicatesAreReported(TestFleet f) throws Exception {
    Path ids = tmp.resolve("dups.txt");
    Files.writeString(ids, "a\nb\na\n");
    Run r =
        fleet(
            args(
                f,
                "--job",
                "j5",
                "--type",
                "sim",
                "--ids-file",
                ids.toString(),
                "--skip-duplicates"));
    assertThat(r.code()).isZero();
    assertThat(r.err()).contains("1 duplicate item ID(s)", "first: 'a'");
    assertThat(r.out()).startsWith("enqueued 2 items");
  }

  static List<ConsumerRecord<String, byte[]>> read(TestFleet f, String topic, int expected) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                f.kafkaBootstrap(),
                "group.id",
                "r" + System.nanoTime(),
                "auto.offset.reset",
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200))
            .forEach(
                x ->
                    out.add(
                        new ConsumerRecord<>(
                            x.topic(),
                            x.partition(),
                            x.offset(),
                            x.timestamp(),
                            x.timestampType(),
                            x.serializedKeySize(),
                            x.serializedValueSize(),
                            new String(x.key(), StandardCharsets.UTF_8),
                            x.value(),
                            x.headers(),
                            x.leaderEpoch())));
      }
    }
    return out;
  }

  @Test
  void anInputLargerThanOneRunChecksIsRefusedClearlyWithNothingSent() throws Exception {
    Path ids = tmp.resolve("big.txt");
    try (var w = Files.newBufferedWriter(ids)) {
      for (int i = 0; i < 1_500_000; i++) w.write("item-" + i + "\n"); // ~18 MB
    }
    Path log = tmp.resolve("big.log");
    // 64 MiB of heap: a run reads at most 6 MiB; before the fix this read it all and died OOM.
    Process p =
        FleetProcess.start(
            List.of("-Xmx64m"),
            log,
            "produce",
            "--job",
            "big",
            "--type",
            "t",
            "--ids-file",
            ids.toString(),
            "--bootstrap",
            "127.0.0.1:1");
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(log);
    assertThat(p.exitValue()).as(out).isEqualTo(2);
    assertThat(out).contains("big.txt is 17 MiB").contains("Nothing was sent").contains("split");
    assertThat(out).doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
  }

  @Test
  void jobNamesWithControlCharactersAreRefusedBeforeAnythingIsSent() {
    Run r =
        fleet(
            "produce",
            "--job",
            "x\u001b[2Jpwned",
            "--type",
            "t",
            "--range",
            "1..3",
            "--bootstrap",
            "127.0.0.1:1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("the job name contains control character U+001B at index 1");
  }

  /**
   * Options a worker cannot read made every item POISON under {@code _poison}, and the job, its
   * manifest counting them, never completed: {@code fleet produce} refuses them before anything is
   * sent, with the worker's own limits (no broker is needed to refuse: the address is unused).
   */
  @Test
  void optionsAWorkerCouldNotReadAreRefusedBeforeAnythingIsSent() throws Exception {
    String[] base = {"produce", "--job", "j", "--type", "t", "--bootstrap", "127.0.0.1:1"};
    Run retries = fleet(concat(base, "--range", "1..3", "--retries", "1001"));
    assertThat(retries.code()).isEqualTo(2);
    assertThat(retries.err()).contains("retries must be in [0, 1000], was 1001");
    Run tag = fleet(concat(base, "--range", "1..3", "--tag", "t".repeat(257)));
    assertThat(tag.code()).isEqualTo(2);
    assertThat(tag.err()).contains("a tag must be 1 to 256 characters, was 257");
    // A key template that only a long ID makes too long: found before the first record is sent.
    Path ids = tmp.resolve("long-ids.txt");
    Files.writeString(ids, "short\n" + "i".repeat(1022) + "\n");
    Run key =
        fleet(concat(base, "--ids-file", ids.toString(), "--idempotency-key", "${job}:${item}:x"));
    assertThat(key.code()).isEqualTo(2);
    assertThat(key.err())
        .contains("idempotencyKey must be 1 to 1024 characters, was 1026 once filled in")
        .contains("Nothing was sent");
  }

  /**
   * Manifest labels and run IDs the recorder refuses (an empty label value, one over 4,096
   * characters, a run ID breaking the name rule) are refused before anything is sent: before, every
   * item went out, the command exited 0, and the recorder skipped the manifest, so the job never
   * got its total and never completed.
   */
  @Test
  void manifestLabelsAndRunIdsTheRecorderRefusesAreRefusedFirst() {
    String[] base = {"produce", "--job", "j", "--type", "t", "--bootstrap", "127.0.0.1:1"};
    Run empty = fleet(concat(base, "--range", "1..3", "--label", "note="));
    assertThat(empty.code()).as(empty.err()).isEqualTo(2);
    assertThat(empty.err()).contains("label note: the value must be 1 to 4096 characters, was 0");
    Run longValue = fleet(concat(base, "--range", "1..3", "--label", "k=" + "v".repeat(4097)));
    assertThat(longValue.code()).isEqualTo(2);
    assertThat(longValue.err()).contains("was 4097");
    String[] close = {
      "jobs", "close", "j", "--type", "t", "--count", "3", "--bootstrap", "127.0.0.1:1"
    };
    Run badRun = fleet(concat(close, "--run-id", "r\u202eun"));
    assertThat(badRun.code()).as(badRun.err()).isEqualTo(2);
    assertThat(badRun.err()).contains("--run-id").contains("control character U+202E");
    Run badLabel = fleet(concat(close, "--run-id", "r1", "--label", "k="));
    assertThat(badLabel.code()).isEqualTo(2);
    assertThat(badLabel.err()).contains("label k: the value must be 1 to 4096 characters");
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
