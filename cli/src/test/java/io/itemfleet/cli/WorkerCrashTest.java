package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.embedded.LocalRedisServer;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.MarkerLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A worker in its own JVM, killed with SIGKILL mid-run and restarted, still yields exact totals.
 */
@ExtendWith(FleetTestKit.class)
class WorkerCrashTest {
  @TempDir Path tmp;

  @Test
  void sigkilledWorkerRestartedYieldsExactTotals(TestFleet f) throws Exception {
    int items = 10_000;
    Path yaml = tmp.resolve("fleet.yaml");
    Files.writeString(
        yaml,
        """
        types:
          sim:
            handler: simulate
            latency: {p50: 10ms, p99: 50ms}
            failureRate: 0.1
            permanentFailureRate: 0.02
            retries: 2
            retryDelays: [200ms]
        """);
    ProduceCommandTest.produceRange(f, 4, "crash", "sim", items);

    Process first = startWorker(f, yaml, "first.log");
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> totals(f).total() >= 300);
    first.destroyForcibly(); // SIGKILL: no drain, no commit, an open transaction left behind
    first.waitFor();
    long atKill = totals(f).total();
    assertThat(atKill).isLessThan(items);

    Process second = startWorker(f, yaml, "second.log");
    try {
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> totals(f).total() >= items);
      Thread.sleep(1500); // anything extra would show up now
    } finally {
      second.destroy(); // SIGTERM: drains
      second.waitFor();
    }
    OutcomeCounts t = totals(f);
    assertThat(t.total()).as("counted exactly once after SIGKILL and restart").isEqualTo(items);
    assertThat(t.failed()).isGreaterThan(0);
    assertThat(t.succeeded() + t.failed()).isEqualTo(items);
    assertThat(t.deduplicated()).as("redelivered records re-emit, never deduplicate").isZero();
  }

  /**
   * An item whose handler takes its worker down with it (here: the worker is SIGKILLed each time
   * the item runs) crash-looped every worker that took its partition. With markers in buckets, the
   * fourth worker finds that three workers stopped while the item ran (--max-crashes 3) and FAILS
   * it worker.crashed without running it; every other item is counted once.
   */
  @Test
  void anItemThatTakesItsWorkersDownIsFailedAfterThreeInsteadOfCrashLooping(TestFleet f)
      throws Exception {
    Optional<String> missing = LocalRedisServer.missing();
    assumeTrue(missing.isEmpty(), () -> "no local redis-server: " + missing.orElse(""));
    try (LocalRedisServer redis = LocalRedisServer.start()) {
      assumeTrue(redis.majorVersion() >= 7, "the buckets layout needs Redis 7");
      Path yaml = tmp.resolve("fleet.yaml");
      Files.writeString(
          yaml,
          """
          types:
            t:
              handler: exec
              command: [sh, -c, 'if [ "$0" = 7 ]; then sleep 60; fi', "${item}"]
              timeout: 90s
          """);
      int items = 21; // item 7 takes its worker down
      ProduceCommandTest.produceRange(f, 4, "job-crash", "t", items);
      MarkerLayout.Place bomb =
          MarkerLayout.parse("buckets").defaultPlace(f.prefix(), "job-crash", "7");
      String last = "";
      for (int stop = 1; stop <= 3; stop++) {
        Path log = tmp.resolve("crash-" + stop + ".log");
        Process w = startWorker(f, yaml, log.getFileName().toString(), redis.url.toString());
        String seen = last;
        try {
          last =
              await()
                  .atMost(Duration.ofSeconds(60))
                  .pollInterval(Duration.ofMillis(100))
                  .until(
                      () -> othersDone(redis, f, items) ? liveLease(redis, bomb) : null,
                      l -> l != null && !l.equals(seen));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError(
              "worker " + stop + " never ran item 7; its log:\n" + Files.readString(log), e);
        }
        w.descendants().forEach(ProcessHandle::destroyForcibly); // the handler's sleep too
        w.destroyForcibly(); // SIGKILL while "bomb" runs
        w.waitFor();
      }
      Process fourth = startWorker(f, yaml, "crash-4.log", redis.url.toString());
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> totals(f).total() >= items);
        Thread.sleep(1000); // anything extra would show up now
      } finally {
        fourth.destroy();
        fourth.waitFor();
      }
      OutcomeCounts t = totals(f);
      assertThat(t.succeeded()).isEqualTo(20);
      assertThat(t.failed()).isEqualTo(1);
      assertThat(t.total()).isEqualTo(items);
      assertThat(Files.readString(tmp.resolve("crash-4.log")))
          .contains("FAILED (worker.crashed)")
          .contains("stopped 3 times");
    }
  }

  /**
   * True once every item but 7 has its done marker: the worker then dies of item 7 alone, as a
   * worker does whose handler takes it down on one item (the stops count against that item only).
   */
  private static boolean othersDone(LocalRedisServer redis, TestFleet f, int items) {
    MarkerLayout layout = MarkerLayout.parse("buckets");
    try (Jedis j = new Jedis(redis.url)) {
      for (int i = 1; i <= items; i++) {
        if (i == 7) continue;
        MarkerLayout.Place p = layout.defaultPlace(f.prefix(), "job-crash", Integer.toString(i));
        String v = j.hget(p.key(), p.field());
        if (v == null || !v.startsWith("D|")) return false;
      }
      return true;
    }
  }

  /** The lease on {@code place} while it is live (its deadline ahead of Redis's clock), or null. */
  private static String liveLease(LocalRedisServer redis, MarkerLayout.Place place) {
    try (Jedis j = new Jedis(redis.url)) {
      String v = j.hget(place.key(), place.field());
      if (v == null || !v.startsWith("L|") || v.startsWith("L|released|")) return null;
      List<String> time = j.time();
      long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
      return Long.parseLong(v.substring(v.lastIndexOf('|') + 1)) > now ? v : null;
    }
  }

  @Test
  void sigtermDrainsCommitsAndExitsZero(TestFleet f) throws Exception {
    Path yaml = tmp.resolve("fleet.yaml");
    Files.writeString(yaml, "types:\n  sim: {handler: simulate, latency: 20ms}\n");
    ProduceCommandTest.produceRange(f, 4, "term", "sim", 5_000);
    Process w = startWorker(f, yaml, "term.log");
    await().atMost(Duration.ofSeconds(60)).until(() -> totals(f).total() >= 200);
    w.destroy(); // SIGTERM, with items in flight
    assertThat(w.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(tmp.resolve("term.log"));
    assertThat(w.exitValue()).as(log).isZero();
    assertThat(log).contains("SIGTERM, draining").contains("drained and committed");
  }

  /**
   * A {@code process} child still running an item when its worker stops: nothing closed the
   * handlers, so the child ran on after the worker exited (a Python child waits for its handler
   * before it reads the end of its input), doing the item's side effects while the item, never
   * committed, ran again on the next worker.
   */
  @Test
  void sigtermStopsTheProcessHandlersChildrenWithTheWorker(TestFleet f) throws Exception {
    assumeTrue(Python.runs(), "python3 is not installed");
    Path pidFile = tmp.resolve("child.pid");
    Path script = tmp.resolve("handler.py");
    Files.writeString(
        script,
        """
        import os, sys, time
        sys.path.insert(0, %s)
        import itemfleet

        def handle(task):
            with open(%s, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(600)

        itemfleet.serve(handle)
        """
            .formatted("'" + ForeignProducerTest.CLIENT + "'", "'" + pidFile + "'"));
    Path yaml = tmp.resolve("fleet.yaml");
    Files.writeString(
        yaml,
        "types:\n  py: {handler: process, command: [python3, '"
            + script
            + "'], processes: 1, inflight: 1, timeout: 10m}\n");
    ProduceCommandTest.produceRange(f, 4, "kid", "py", 1);
    List<String> args =
        List.of(
            "worker",
            "--bootstrap",
            f.kafkaBootstrap(),
            "--topic-prefix",
            f.prefix(),
            "--partitions",
            "4",
            "--config",
            yaml.toString(),
            "--no-redis",
            "--drain-timeout",
            "2s",
            "--metrics-port",
            "-1");
    Process w = FleetProcess.start(tmp.resolve("kid.log"), args.toArray(String[]::new));
    long pid;
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.exists(pidFile) && Files.size(pidFile) > 0);
      pid = Long.parseLong(Files.readString(pidFile).trim());
      assertThat(ProcessHandle.of(pid)).as("the child runs the item").isPresent();
    } finally {
      w.destroy(); // SIGTERM
    }
    assertThat(w.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(10))
        .alias("the child stopped with its worker")
        .until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void workerWithoutTypesRefusesToStartAndNamesTheWayOut() throws Exception {
    Process p = FleetProcess.start(tmp.resolve("none.log"), "worker", "--no-redis");
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(tmp.resolve("none.log")))
        .contains("knows no task types")
        .contains("--allow-no-types");
  }

  private Process startWorker(TestFleet f, Path yaml, String log) throws Exception {
    return startWorker(f, yaml, log, f.redisUrl());
  }

  /** A worker on {@code redisUrl}; markers in buckets when that is not the kit's own Redis. */
  private Process startWorker(TestFleet f, Path yaml, String log, String redisUrl)
      throws Exception {
    boolean own = !redisUrl.equals(f.redisUrl());
    List<String> args =
        new ArrayList<>(
            List.of(
                "worker",
                "--bootstrap",
                f.kafkaBootstrap(),
                "--topic-prefix",
                f.prefix(),
                "--partitions",
                "4",
                "--config",
                yaml.toString(),
                "--redis-url",
                redisUrl,
                // The restarted worker waits out its predecessor's leases (it cannot know that
                // predecessor is dead): keep that wait short here.
                "--lease-ttl",
                own ? "1s" : "5s",
                "--worker-id",
                "crash-test",
                "--metrics-port",
                "-1",
                "--concurrency",
                "64"));
    if (own) args.addAll(List.of("--redis-markers", "buckets"));
    return FleetProcess.start(tmp.resolve(log), args.toArray(String[]::new));
  }

  private static OutcomeCounts totals(TestFleet f) {
    MessageCodec codec = new MessageCodec();
    OutcomeCounts sum = OutcomeCounts.ZERO;
    for (var r : f.readCommitted(new FleetTopics(f.prefix()).stats())) {
      StatsDelta d = codec.decodeStats(r.value()).orThrow();
      sum = sum.plus(d.counts());
    }
    return sum;
  }
}
