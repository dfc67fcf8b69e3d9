package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** Hostile input and edges: every message ends counted once, and nothing wedges a partition. */
@ExtendWith(FleetTestKit.class)
class WorkerRobustnessTest {
  @TempDir Path tmp;

  private static Worker start(
      FleetHarness h, WorkerSettings s, String yaml, Map<String, TaskHandler> handlers) {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    return Worker.start(s, config, HandlerRegistry.create(config, handlers), WorkerMetrics.NONE);
  }

  private static void send(
      FleetHarness h, String topic, byte[] value, Map<String, String> headers) {
    Map<String, Object> p = new HashMap<>(h.kafka());
    p.put("compression.type", "gzip"); // a 1.1 MB record compresses under the broker's limit
    p.put("max.request.size", 10 << 20);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, "k", value);
      headers.forEach((k, v) -> r.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
      producer.send(r);
    }
  }

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyBadKindEndsInOneCountedOutcomeWhileGoodOnesFinish(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 2);
    h.produce("m", "t", FleetHarness.ids(1000));
    String big =
        "{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"big\",\"payload\":\""
            + "a".repeat(1_100_000)
            + "\"}";
    send(h, h.topics.tasks(), json(big), Map.of(FleetHeaders.JOB, "m")); // 1 POISON (oversize)
    send(
        h,
        h.topics.tasks(),
        json("{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"att\",\"attempt\":2147483647}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json(
            "{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"tmo\",\"options\":{\"timeout\":\"9999999999d\"}}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json(
            "{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"dly\",\"options\":{\"retryDelays\":[\"9999999999d\"]}}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json(
            "{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"ttl\",\"options\":{\"retryDelays\":[\"2h\"],\"idempotencyTtl\":\"1s\"}}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json("{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"boom\"}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json("{\"v\":1,\"job\":\"m\",\"type\":\"t\",\"item\":\"after\"}"),
        Map.of());
    TaskHandler handler =
        ctx -> {
          if (ctx.item().equals("boom")) {
            throw new IllegalStateException("outer", new java.io.IOException("disk on fire"));
          }
          return HandlerResult.succeeded();
        };
    String yaml = "types:\n  t: {handler: noop, retries: 0}\n";
    try (Worker w = start(h, h.redisSettings("w-bad", 64), yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.totals("m").counts().total() >= 1007);
      assertThat(w.isRunning()).isTrue();
    }
    var counts = h.totals("m").counts();
    assertThat(counts.total()).isEqualTo(1007);
    assertThat(counts.succeeded()).isEqualTo(1001); // the good ones, "after" included
    assertThat(counts.poison()).isEqualTo(1);
    assertThat(counts.failed()).isEqualTo(5);
    Map<String, FailureEvent> byItem =
        h.failures().stream()
            .filter(f -> f.item().isPresent())
            .collect(Collectors.toMap(f -> f.item().get(), f -> f));
    assertThat(byItem.get("att").errorClass()).isEqualTo("task.bad_options");
    assertThat(byItem.get("att").errorMessage()).contains("attempt must be in [0, 1000]");
    assertThat(byItem.get("tmo").errorMessage()).contains("timeout must be in [1ms, 24h]");
    assertThat(byItem.get("dly").errorMessage()).contains("retryDelays must each be in [0ms, 24h]");
    assertThat(byItem.get("ttl").errorMessage()).contains("idempotencyTtl: 1s does not outlast");
    assertThat(byItem.get("boom").stackTrace().orElseThrow())
        .contains("IllegalStateException: outer")
        .contains("Caused by: java.io.IOException: disk on fire");
    FailureEvent poison =
        h.failures().stream().filter(f -> f.poison().isPresent()).findFirst().orElseThrow();
    assertThat(poison.errorClass()).isEqualTo("decode.oversize");
    assertThat(poison.poison().get().raw()).hasSize(FailureEvent.MAX_RAW_BYTES);
    assertThat(poison.poison().get().size()).isEqualTo(big.length());
    assertThat(poison.poison().get().sha256()).hasSize(64);
  }

  /**
   * Outputs that would not fit in one Kafka record. (1) A ~400 KB task of emoji asking for a retry:
   * its retry message was written with each astral character as two JSON escapes (4 bytes became
   * 12, 1.2 MB), over the producer's limit. (2) A handler's 2,000,000-character error class,
   * written whole into the failure event. (3) A 300-character error class, which the recorder's
   * decoder refuses (over 256), so the failure row was silently lost. Before, (1) and (2) failed
   * the transaction, which rewound the worker's partitions and met the same output again: forever.
   */
  @Test
  void outputsThatWouldNotFitInARecordNeverWedgeTheWorker(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("o", "t", FleetHarness.ids(10));
    String emoji =
        "{\"v\":1,\"job\":\"o\",\"type\":\"t\",\"item\":\"emoji\",\"payload\":\""
            + "\uD83D\uDE00".repeat(100_000)
            + "\"}";
    send(h, h.topics.tasks(), json(emoji), Map.of());
    h.produce("o", "t", List.of("long-class", "class-300"));
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    TaskHandler handler =
        ctx -> {
          int n = runs.computeIfAbsent(ctx.item(), k -> new AtomicInteger()).incrementAndGet();
          return switch (ctx.item()) {
            case "emoji" ->
                n == 1 ? HandlerResult.retry("test.again", "once more") : HandlerResult.succeeded();
            case "long-class" -> HandlerResult.failed("c".repeat(2_000_000), "too long a class");
            case "class-300" -> HandlerResult.failed("d".repeat(300), "a long class");
            default -> HandlerResult.succeeded();
          };
        };
    String yaml = "types:\n  t: {handler: noop, retries: 1, retryDelays: [10ms]}\n";
    try (Worker w = start(h, h.settings("w-big-out", 8), yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("o").counts().total() >= 13);
      assertThat(w.isRunning()).isTrue();
    }
    assertThat(h.totals("o").counts()).isEqualTo(new OutcomeCounts(11, 0, 2, 0, 0));
    assertThat(runs.get("emoji")).hasValue(2); // the retry ran, from a record that fit
    Map<String, FailureEvent> byItem =
        h.failures().stream().collect(Collectors.toMap(f -> f.item().orElseThrow(), f -> f));
    assertThat(byItem.get("long-class").errorClass()).hasSize(256).startsWith("ccc");
    assertThat(byItem.get("class-300").errorClass()).hasSize(256).startsWith("ddd");
    assertThat(byItem.get("class-300").errorMessage()).isEqualTo("a long class");
  }

  /**
   * A payload of numbers written with exponents ({@code 1e6}) is re-encoded longer ({@code
   * 1000000.0}, three times the bytes): a 440 KB task, well under the limit a retry can carry, made
   * a 1.3 MB retry message no transaction could carry, and the worker rewound every partition for
   * ever. The size that counts is the retry message's own.
   */
  @Test
  void aRetryMessageThatWouldGrowPastTheRecordLimitNeverWedgesTheWorker(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("g", "t", FleetHarness.ids(10));
    String floats = "1e6,".repeat(110_000) + "1e6";
    for (String[] item : new String[][] {{"floats", "t"}, {"floats-unknown", "nosuch"}}) {
      String task =
          "{\"v\":1,\"job\":\"g\",\"type\":\""
              + item[1]
              + "\",\"item\":\""
              + item[0]
              + "\",\"payload\":["
              + floats
              + "]}";
      assertThat(task.length()).isBetween(400_000, 500_000);
      send(h, h.topics.tasks(), json(task), Map.of());
    }
    AtomicInteger runs = new AtomicInteger();
    TaskHandler handler =
        ctx -> {
          if (ctx.item().equals("floats")) {
            runs.incrementAndGet();
            return HandlerResult.retry("test.again", "once more");
          }
          return HandlerResult.succeeded();
        };
    String yaml = "types:\n  t: {handler: noop, retries: 3, retryDelays: [10ms]}\n";
    try (Worker w = start(h, h.settings("w-grow", 8), yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("g").counts().total() >= 12);
      assertThat(w.isRunning()).isTrue();
    }
    assertThat(h.totals("g").counts()).isEqualTo(new OutcomeCounts(10, 0, 2, 0, 0));
    assertThat(runs).hasValue(1); // its retry could not be sent: FAILED, not retried
    Map<String, FailureEvent> byItem =
        h.failures().stream().collect(Collectors.toMap(f -> f.item().orElseThrow(), f -> f));
    assertThat(byItem.get("floats").errorClass()).isEqualTo("task.too_large_to_retry");
    assertThat(byItem.get("floats-unknown").errorClass()).isEqualTo("config.unknown_type");
    assertThat(byItem.get("floats-unknown").errorMessage()).contains("not passed on");
  }

  /**
   * A record on a retry topic that does not decode is settled at once (POISON); measuring whether
   * it could be passed on must not need it decoded — a 300 KB one did, and the poll thread died on
   * it at every restart.
   */
  @Test
  void aLargeUndecodableRecordOnARetryTopicIsPoisonAndTheWorkerGoesOn(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("rg", "t", FleetHarness.ids(10));
    send(
        h,
        h.topics.retry(Duration.ofSeconds(5)),
        json("{not json" + "z".repeat(300_000)),
        Map.of(FleetHeaders.JOB, "rg"));
    String yaml = "types:\n  t: {handler: noop}\n";
    try (Worker w = start(h, h.settings("w-rg", 8), yaml, Map.of())) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("rg").counts().total() >= 11 || !w.isRunning());
      assertThat(w.isRunning()).isTrue();
    }
    assertThat(h.totals("rg").counts()).isEqualTo(new OutcomeCounts(10, 0, 0, 0, 1));
  }

  /**
   * Every record ends counted under the job it names, so that the job completes: a JSON task that a
   * worker cannot read for another field than its job (retries over 1000, a version from the
   * future) counted under {@code _poison}; a job header with spaces around it counted under the
   * name without them (not the manifest's); a job header that is not UTF-8 was read with U+FFFD in
   * place of its bad bytes ({@code caf\xE9} and {@code caf\xE8} one job, with one set of Redis
   * keys).
   */
  @Test
  void recordsAreCountedUnderTheJobTheyNameExactly(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    send(
        h,
        h.topics.tasks(),
        json(
            "{\"v\":1,\"job\":\"jx\",\"type\":\"t\",\"item\":\"a\",\"options\":{\"retries\":1001}}"),
        Map.of());
    send(
        h,
        h.topics.tasks(),
        json("{\"v\":2,\"job\":\"jx\",\"type\":\"t\",\"item\":\"b\"}"),
        Map.of());
    send(h, h.topics.tasks(), json("c"), Map.of(FleetHeaders.JOB, " jx ", FleetHeaders.TYPE, "t"));
    send(h, h.topics.tasks(), json("d"), Map.of(FleetHeaders.JOB, "jx", FleetHeaders.TYPE, "t"));
    try (KafkaProducer<String, byte[]> raw =
        new KafkaProducer<>(h.kafka(), new StringSerializer(), new ByteArraySerializer())) {
      ProducerRecord<String, byte[]> latin1 =
          new ProducerRecord<>(h.topics.tasks(), "e", json("e"));
      latin1.headers().add(FleetHeaders.JOB, new byte[] {'c', 'a', 'f', (byte) 0xE9});
      latin1.headers().add(FleetHeaders.TYPE, json("t"));
      raw.send(latin1);
    }
    String yaml = "types:\n  t: {handler: noop}\n";
    try (Worker w = start(h, h.settings("w-exact", 8), yaml, Map.of())) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  h.totals("jx").counts().total() >= 3
                      && h.totals(" jx ").counts().total() >= 1
                      && h.totals(FailureEvent.UNATTRIBUTED).counts().total() >= 1);
      assertThat(w.isRunning()).isTrue();
    }
    assertThat(h.totals("jx").counts()).isEqualTo(new OutcomeCounts(1, 0, 0, 0, 2));
    assertThat(h.totals(" jx ").counts()).isEqualTo(new OutcomeCounts(1, 0, 0, 0, 0));
    assertThat(h.totals(FailureEvent.UNATTRIBUTED).counts().poison()).isEqualTo(1);
    FailureEvent cafe =
        h.failures().stream()
            .filter(f -> f.poison().isPresent() && f.source().orElseThrow().offset() == 4)
            .findFirst()
            .orElseThrow();
    assertThat(cafe.poison().orElseThrow().cause()).contains("U+FFFD");
  }

  @Test
  void compactItemsRunUnderTheJobAndTypeTheyNameAndABrokenOneIsPoisonOfItsJob(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    byte[] prefix = MessageCodec.compactPrefix("cj", "t");
    for (int i = 0; i < 50; i++) {
      // Headers naming another job are ignored: a compact value names its own.
      send(
          h,
          h.topics.tasks(),
          MessageCodec.compact(prefix, "c-" + i),
          Map.of(FleetHeaders.JOB, "other"));
    }
    send(h, h.topics.tasks(), json("\u001ecj\u001ft\u001f"), Map.of()); // no item ID: POISON
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    TaskHandler handler =
        ctx -> {
          seen.add(ctx.job() + "/" + ctx.type() + "/" + ctx.item());
          return HandlerResult.succeeded();
        };
    String yaml = "types:\n  t: {handler: noop, retries: 0}\n";
    try (Worker w = start(h, h.redisSettings("w-compact", 8), yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("cj").counts().total() >= 51);
    }
    var counts = h.totals("cj").counts();
    assertThat(counts.succeeded()).isEqualTo(50);
    assertThat(counts.poison()).isEqualTo(1);
    assertThat(h.totals("other").counts().total()).isZero();
    assertThat(seen).hasSize(50).contains("cj/t/c-0", "cj/t/c-49");
    FailureEvent poison =
        h.failures().stream().filter(f -> f.poison().isPresent()).findFirst().orElseThrow();
    assertThat(poison.job()).contains("cj");
    assertThat(poison.type()).contains("t");
    assertThat(poison.errorMessage()).contains("the item ID is empty");
  }

  @Test
  void aFarFutureRetryNeverHoldsBackADueOneOnItsTierPartition(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    MessageCodec codec = new MessageCodec();
    String tier = h.topics.retry(Duration.ofSeconds(5));
    TaskMessage far =
        TaskMessage.of("hol", "t", "far").nextAttempt(Instant.now().plus(Duration.ofDays(11)));
    List<String> ran = new CopyOnWriteArrayList<>();
    TaskHandler handler =
        ctx -> {
          ran.add(ctx.item());
          return HandlerResult.succeeded();
        };
    try (Worker w =
        start(h, h.settings("w-hol", 8), "types:\n  t: {handler: noop}\n", Map.of("t", handler))) {
      send(h, tier, codec.encodeTask(far), Map.of());
      await().atMost(Duration.ofSeconds(20)).pollDelay(Duration.ofSeconds(2)).until(() -> true);
      // Written after the far one (whose partition the old loop paused for 11 days): due in 6 s.
      TaskMessage due = TaskMessage.of("hol", "t", "due").nextAttempt(Instant.now().plusSeconds(6));
      send(h, tier, codec.encodeTask(due), Map.of());
      await().atMost(Duration.ofSeconds(40)).until(() -> ran.contains("due"));
    }
    assertThat(ran).containsExactly("due");
    assertThat(h.totals("hol").counts().succeeded()).isEqualTo(1);
    assertThat(h.totals("hol").retries()).isZero(); // passing a record on is not a retry
    var passedOn = fleet.readCommitted(h.topics.retry(Duration.ofHours(1)));
    assertThat(passedOn)
        .singleElement()
        .satisfies(
            r -> {
              TaskMessage t =
                  codec.decodeTask(r.value(), n -> java.util.Optional.empty()).orThrow();
              assertThat(t.item()).isEqualTo("far");
              assertThat(t.attempt()).isEqualTo(1);
              assertThat(t.notBefore().get()).isBefore(Instant.now().plus(Duration.ofHours(25)));
            });
  }

  @Test
  void anOutOfMemoryErrorStopsTheWorkerAndItsItemRunsAgainElsewhere(TestFleet fleet)
      throws Exception {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("oom", "t", List.of("a", "b", "c"));
    AtomicBoolean thrown = new AtomicBoolean();
    TaskHandler failing =
        ctx -> {
          if (ctx.item().equals("b") && thrown.compareAndSet(false, true))
            throw new OutOfMemoryError("test");
          return HandlerResult.succeeded();
        };
    String yaml = "types:\n  t: {handler: noop}\n";
    Worker w = start(h, h.settings("w-oom", 1), yaml, Map.of("t", failing));
    assertThat(w.awaitTermination(Duration.ofSeconds(20))).as("stopped promptly").isTrue();
    assertThat(w.failure()).get().isInstanceOf(OutOfMemoryError.class);
    assertThat(w.state()).isEqualTo("FAILED");
    w.close();
    try (Worker again = start(h, h.settings("w-oom2", 1), yaml, Map.of("t", failing))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> h.totals("oom").counts().total() >= 3);
    }
    assertThat(h.totals("oom").counts().succeeded()).isEqualTo(3);
  }

  @Test
  void stoppingABusyWorkerManyTimesCommitsEverythingFinishedOnce(TestFleet fleet) throws Exception {
    FleetHarness h = new FleetHarness(fleet, 2);
    int items = 600;
    h.produce("stop", "t", FleetHarness.ids(items));
    Path log = tmp.resolve("runs.log");
    Files.createFile(log);
    String yaml =
        "types:\n  t:\n    handler: exec\n    command: [sh, -c, 'echo \"$FLEET_ITEM\" >> "
            + log
            + "; sleep 0.1', sh]\n";
    int stops = 0;
    while (h.totals("stop").counts().total() < items && stops < 60) {
      long before = Files.readAllLines(log).size();
      Worker w = start(h, h.settings("w-stop", 16), yaml, Map.of());
      // Stop it while busy: once it has run a few dozen more items (or all are done).
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  Files.readAllLines(log).size() >= Math.min(before + 40, items)
                      || h.totals("stop").counts().total() >= items);
      w.close();
      assertThat(w.failure()).as("stop %d was clean", stops).isEmpty();
      assertThat(w.state()).isEqualTo("STOPPED");
      stops++;
    }
    assertThat(h.totals("stop").counts().succeeded()).isEqualTo(items);
    Map<String, Long> runs =
        Files.readAllLines(log).stream()
            .collect(Collectors.groupingBy(s -> s, Collectors.counting()));
    assertThat(runs).hasSize(items);
    assertThat(runs.values())
        .as("each item ran exactly once across %d stops", stops)
        .containsOnly(1L);
  }

  /**
   * A handler that never returns and ignores its interruption: its timed-out attempt's lease was
   * kept (and renewed) as long as it ran, so its retry waited for it forever and the retry tier's
   * partition stopped committing. Now the lease is given up three lease periods past the deadline,
   * and the retry runs.
   */
  @Test
  void aHandlerThatNeverReturnsHoldsItsLeaseOnlyForAWhile(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("runaway", "t", List.of("a", "stuck", "b"));
    AtomicBoolean letGo = new AtomicBoolean();
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    TaskHandler handler =
        ctx -> {
          runs.computeIfAbsent(ctx.item(), k -> new AtomicInteger()).incrementAndGet();
          if (ctx.item().equals("stuck") && ctx.attempt() == 1) {
            while (!letGo.get()) {
              try {
                Thread.sleep(20);
              } catch (InterruptedException ignored) {
                // a handler that ignores its interruption
              }
            }
          }
          return HandlerResult.succeeded();
        };
    WorkerSettings s = h.redisSettings("w-runaway", 8).withLeaseTtl(Duration.ofSeconds(1));
    String yaml = "types:\n  t: {handler: noop, timeout: 300ms, retries: 1, retryDelays: [10ms]}\n";
    try (Worker w = start(h, s, yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.totals("runaway").counts().total() >= 3);
      assertThat(h.totals("runaway").counts()).isEqualTo(new OutcomeCounts(3, 0, 0, 0, 0));
      assertThat(runs.get("stuck")).hasValue(2);
    } finally {
      letGo.set(true);
    }
  }

  @Test
  void leasesOfLiveAttemptsAreRenewedUnderASaturatedCpuAndOnlyTrueLossesCount(TestFleet fleet)
      throws Exception {
    FleetHarness h = new FleetHarness(fleet, 2);
    h.produce("lease", "t", FleetHarness.ids(300));
    h.produce("lease", "t", List.of("victim"));
    Map<String, Integer> runs = new ConcurrentHashMap<>();
    TaskHandler slow =
        ctx -> {
          runs.merge(ctx.item(), 1, Integer::sum);
          Thread.sleep(ctx.item().equals("victim") ? 8_000 : 3_000); // beyond the 2 s lease
          return HandlerResult.succeeded();
        };
    AtomicBoolean burn = new AtomicBoolean(true);
    List<Thread> burners = new ArrayList<>();
    for (int i = 0; i < 6; i++) { // with the broker and Redis, far more runnable threads than cores
      burners.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    long x = 0;
                    while (burn.get()) x += System.nanoTime() % 7;
                  }));
    }
    WorkerSettings s = h.redisSettings("w-lease", 100).withLeaseTtl(Duration.ofSeconds(2));
    try (Worker w = start(h, s, "types:\n  t: {handler: noop, timeout: 30s}\n", Map.of("t", slow));
        Jedis redis = new Jedis(java.net.URI.create(fleet.redisUrl()))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> runs.containsKey("victim"));
      String key = RedisKeys.defaultItemKey(fleet.prefix(), "lease", "victim");
      assertThat(redis.get(key)).startsWith("L"); // its running lease
      redis.del(key); // a true loss: as if it had expired and been taken
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.totals("lease").counts().total() >= 301);
      assertThat(w.counters()).isNotNull();
      assertThat(gateOf(w).lostLeases()).as("only the deleted lease counts as lost").isEqualTo(1);
    } finally {
      burn.set(false);
      for (Thread t : burners) t.join();
    }
    assertThat(runs.values()).containsOnly(1);
    assertThat(h.totals("lease").counts().succeeded()).isEqualTo(301);
  }

  @Test
  void aTimedOutHandlerKeepsItsLeaseSoItsRetryWaitsForIt(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("late", "t", List.of("stuck"));
    List<long[]> spans = new CopyOnWriteArrayList<>();
    TaskHandler stubborn =
        ctx -> {
          long start = System.nanoTime();
          if (ctx.attempt() == 1) {
            long until = start + 3_000_000_000L;
            while (System.nanoTime() < until) {
              try {
                Thread.sleep(100);
              } catch (InterruptedException ignored) {
                /* ignores it */
              }
            }
          }
          spans.add(new long[] {ctx.attempt(), start, System.nanoTime()});
          return HandlerResult.succeeded();
        };
    String yaml =
        "types:\n  t: {handler: noop, timeout: 300ms, retries: 2, retryDelays: [100ms]}\n";
    try (Worker w = start(h, h.redisSettings("w-late", 4), yaml, Map.of("t", stubborn))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> h.totals("late").counts().total() >= 1);
    }
    assertThat(h.totals("late").counts().succeeded()).isEqualTo(1);
    assertThat(spans).hasSize(2);
    long firstEnd = spans.stream().filter(x -> x[0] == 1).findFirst().orElseThrow()[2];
    long secondStart = spans.stream().filter(x -> x[0] == 2).findFirst().orElseThrow()[1];
    assertThat(secondStart)
        .as("the retry started after the timed-out handler returned")
        .isGreaterThan(firstEnd);
  }

  @Test
  void anItemOfAnUnknownTypeWaitsForAWorkerThatKnowsIt(TestFleet fleet) throws Exception {
    FleetHarness h = new FleetHarness(fleet, 1);
    h.produce("roll", "new-type", List.of("r1", "r2"));
    // A 20 s window: looked at again every 5 s (a quarter of it), not every minute.
    WorkerSettings window = h.settings("w-old", 4).withUnknownTypeWindow(Duration.ofSeconds(20));
    try (Worker old = start(h, window, "types:\n  t: {handler: noop}\n", Map.of())) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !fleet.readCommitted(h.topics.retry(Duration.ofSeconds(5))).isEmpty());
    }
    assertThat(h.totals("roll").counts().total()).isZero(); // passed on, not failed
    try (Worker fresh =
        start(h, h.settings("w-new", 4), "types:\n  new-type: {handler: noop}\n", Map.of())) {
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofSeconds(2))
          .until(() -> h.totals("roll").counts().total() >= 2);
    }
    assertThat(h.totals("roll").counts().succeeded()).isEqualTo(2);
    assertThat(h.totals("roll").retries()).isZero();
  }

  private static RedisGate gateOf(Worker w) throws Exception {
    var f = Worker.class.getDeclaredField("admission");
    f.setAccessible(true);
    return (RedisGate) f.get(w);
  }
}
