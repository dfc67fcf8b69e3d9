package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FleetTestKit.class)
class WorkerEngineTest {

  private static Worker start(
      FleetHarness h, String id, int concurrency, String yaml, Map<String, TaskHandler> handlers) {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    return Worker.start(
        h.settings(id, concurrency).withUnknownTypeWindow(Duration.ZERO), // fail unknown types now
        config,
        HandlerRegistry.create(config, handlers),
        WorkerMetrics.NONE);
  }

  @Test
  void everyMessageEndsInExactlyOneOutcomeCountedOnce(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    h.produce("job-a", "sim", FleetHarness.ids(2000));
    h.produce("job-a", "no-such-type", List.of("u1"));
    h.produceRaw(new byte[] {'{', '"', 'v'}, Map.of(FleetHeaders.JOB, "job-a"));
    String yaml =
        """
        types:
          sim:
            handler: simulate
            latency: 1ms
            failureRate: 0.2
            permanentFailureRate: 0.05
            retries: 2
            retryDelays: [100ms]
        """;
    try (Worker w = start(h, "w1", 64, yaml, Map.of())) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofSeconds(2))
          .until(() -> h.totals("job-a").counts().total() >= 2002);
    }
    FleetHarness.Totals t = h.totals("job-a");
    assertThat(t.counts().total()).isEqualTo(2002);
    assertThat(t.counts().poison()).isEqualTo(1);
    assertThat(t.counts().failed()).isGreaterThan(50);
    assertThat(t.retries()).isGreaterThan(100);
    List<FailureEvent> failures = h.failures();
    assertThat(failures).hasSize((int) (t.counts().failed() + t.counts().poison()));
    assertThat(failures)
        .anySatisfy(f -> assertThat(f.errorMessage()).contains("unknown task type 'no-such-type'"));
    assertThat(failures)
        .filteredOn(f -> f.poison().isPresent())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.job()).contains("job-a");
              assertThat(f.poison().get().raw()).containsExactly('{', '"', 'v');
            });
  }

  @Test
  void outOfOrderCompletionNeverCommitsPastAGap(TestFleet fleet) throws Exception {
    FleetHarness h = new FleetHarness(fleet, 1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger done = new AtomicInteger();
    TaskHandler handler =
        ctx -> {
          if (ctx.item().equals("slow")) release.await();
          done.incrementAndGet();
          return HandlerResult.succeeded();
        };
    h.produce("job-g", "t", List.of("a", "slow", "b", "c", "d"));
    try (Worker w = start(h, "w-gap", 8, "{}", Map.of("t", handler));
        Admin admin = fleet.admin()) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> done.get() == 4 && committed(admin, h) == 1);
      Thread.sleep(500); // several commit intervals pass, and the offset must stay at the gap
      assertThat(committed(admin, h)).isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(30)).until(() -> committed(admin, h) == 5);
    }
    assertThat(h.totals("job-g").counts()).isEqualTo(new OutcomeCounts(5, 0, 0, 0, 0));
  }

  @Test
  void revokedWorkIsNeverCommitted(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 4);
    CountDownLatch releaseA = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    TaskHandler blocked =
        ctx -> {
          runs.incrementAndGet();
          releaseA.await();
          return HandlerResult.succeeded();
        };
    TaskHandler quick =
        ctx -> {
          runs.incrementAndGet();
          return HandlerResult.succeeded();
        };
    h.produce("job-r", "t", FleetHarness.ids(200));
    try (Worker a = start(h, "w-a", 400, "{}", Map.of("t", blocked))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() == 200);
      try (Worker b = start(h, "w-b", 400, "{}", Map.of("t", quick))) {
        // b takes over some partitions and finishes their items, while a still holds them all.
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> h.totals("job-r").counts().total() > 0);
        releaseA.countDown();
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> h.totals("job-r").counts().total() >= 200);
      }
    }
    assertThat(runs.get()).as("some items ran twice").isGreaterThan(200);
    assertThat(h.totals("job-r").counts()).isEqualTo(new OutcomeCounts(200, 0, 0, 0, 0));
  }

  @Test
  void retryDelaysFollowTheListWithinJitter(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    List<Long> starts = new CopyOnWriteArrayList<>();
    TaskHandler failing =
        ctx -> {
          starts.add(System.nanoTime());
          return HandlerResult.retry("test.flaky", "always fails");
        };
    String yaml =
        """
        types:
          t: {handler: noop, retries: 2, retryDelays: [1s, 2s], jitter: 0.2}
        """;
    h.produce("job-d", "t", List.of("x"));
    try (Worker w = start(h, "w-d", 4, yaml, Map.of("t", failing))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.totals("job-d").counts().failed() == 1);
    }
    assertThat(starts).hasSize(3);
    double gap1 = (starts.get(1) - starts.get(0)) / 1e9;
    double gap2 = (starts.get(2) - starts.get(1)) / 1e9;
    // within the jitter bounds, plus up to 0.6 s for the commit interval and the trip through the
    // retry topic
    assertThat(gap1).isBetween(0.8, 1.2 + 0.6);
    assertThat(gap2).isBetween(1.6, 2.4 + 0.6);
    FailureEvent f = h.failures().get(0);
    assertThat(f.attempts()).isEqualTo(3);
    assertThat(f.retryable()).isTrue();
    assertThat(h.totals("job-d").retries()).isEqualTo(2);
  }

  @Test
  void hungHandlerTimesOutAndFreesItsSlot(TestFleet fleet) {
    FleetHarness h = new FleetHarness(fleet, 1);
    Map<String, String> seen = new ConcurrentHashMap<>();
    TaskHandler handler =
        ctx -> {
          seen.put(ctx.item(), "started");
          if (ctx.item().equals("hang")) {
            while (true) {
              try {
                Thread.sleep(60_000);
              } catch (InterruptedException ignored) {
                // a badly behaved handler that ignores interrupts
              }
            }
          }
          return HandlerResult.succeeded();
        };
    String yaml =
        """
        types:
          t: {handler: noop, retries: 0, timeout: 300ms}
        """;
    h.produce("job-h", "t", List.of("hang", "ok"));
    try (Worker w = start(h, "w-h", 1, yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.totals("job-h").counts().total() == 2);
    }
    assertThat(h.totals("job-h").counts()).isEqualTo(new OutcomeCounts(1, 0, 1, 0, 0));
    assertThat(h.failures())
        .singleElement()
        .satisfies(f -> assertThat(f.errorClass()).isEqualTo("timeout"));
  }

  @Test
  void aProcessChildSlowerToStartThanItsTimeOutRunsEveryItemWithStartTimeout(
      TestFleet fleet, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    org.assertj.core.api.Assumptions.assumeThat(python3())
        .as("python3 is not installed: the process handler test skips")
        .isTrue();
    java.nio.file.Path client =
        java.nio.file.Path.of("..", "clients", "python").toAbsolutePath().normalize();
    java.nio.file.Path script = dir.resolve("slow.py");
    // Loads for 3 s (a model, say) before it serves; every item's time-out is 1 s.
    java.nio.file.Files.writeString(
        script,
        """
        import sys, time
        sys.path.insert(0, %s)
        import itemfleet
        time.sleep(3)
        itemfleet.serve(lambda task: None)
        """
            .formatted("'" + client + "'"));
    FleetHarness h = new FleetHarness(fleet, 2);
    String yaml =
        """
        types:
          t:
            handler: process
            command: ["python3", "%s"]
            inflight: 4
            timeout: 1s
            startTimeout: 60s
            retries: 0
        """
            .formatted(script);
    h.produce("job-s", "t", FleetHarness.ids(20));
    try (Worker w = start(h, "w-s", 8, yaml, Map.of())) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("job-s").counts().total() == 20);
    }
    // Before: startTimeout did not exist (the worker refused the key); without it, every attempt
    // sent during the 3 s start timed out, and each time-out killed the child mid-start.
    assertThat(h.totals("job-s").counts().succeeded()).isEqualTo(20);
    assertThat(h.totals("job-s").retries()).isZero();
  }

  @Test
  void aHandlersFailedForGoodRunsOnceWhateverItsClassAndMessage(TestFleet fleet) {
    // Before: failed("", …) and failed("db.x", null) were retried — the first met the failure
    // event's check (no error class) and was counted as a worker crash, the second threw an NPE in
    // the handler; an anonymous exception (no simple name) and an AssertionError were logged as
    // worker errors on every attempt.
    FleetHarness h = new FleetHarness(fleet, 2);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    TaskHandler handler =
        ctx -> {
          runs.computeIfAbsent(ctx.item(), k -> new AtomicInteger()).incrementAndGet();
          return switch (ctx.item()) {
            case "blank-class" -> HandlerResult.failed("", "bad input");
            case "null-message" -> HandlerResult.failed("db.missing", null);
            case "anonymous" -> throw new IllegalStateException("anon") {};
            case "assertion" -> throw new AssertionError("an assert in the handler");
            default -> HandlerResult.succeeded();
          };
        };
    String yaml =
        """
        types:
          t: {handler: noop, retries: 2, retryDelays: [100ms]}
        """;
    h.produce("job-f", "t", List.of("blank-class", "null-message", "anonymous", "assertion", "ok"));
    try (Worker w = start(h, "w-f", 4, yaml, Map.of("t", handler))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.totals("job-f").counts().total() == 5);
    }
    assertThat(h.totals("job-f").counts()).isEqualTo(new OutcomeCounts(1, 0, 4, 0, 0));
    assertThat(runs.get("blank-class").get()).isEqualTo(1);
    assertThat(runs.get("null-message").get()).isEqualTo(1);
    assertThat(runs.get("anonymous").get()).isEqualTo(3); // retried: it threw
    assertThat(runs.get("assertion").get()).isEqualTo(3);
    Map<String, String> classOf = new java.util.HashMap<>();
    for (FailureEvent f : h.failures()) classOf.put(f.item().orElseThrow(), f.errorClass());
    assertThat(classOf.get("blank-class")).isEqualTo("handler.failed");
    assertThat(classOf.get("null-message")).isEqualTo("db.missing");
    assertThat(classOf.get("anonymous")).contains("WorkerEngineTest");
    assertThat(classOf.get("assertion")).isEqualTo("AssertionError");
  }

  private static boolean python3() {
    try {
      return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  private static long committed(Admin admin, FleetHarness h) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> m =
        admin
            .listConsumerGroupOffsets(h.settings("x", 1).groupId())
            .partitionsToOffsetAndMetadata()
            .get();
    OffsetAndMetadata o = m.get(new TopicPartition(h.topics.tasks(), 0));
    return o == null ? 0 : o.offset();
  }
}
