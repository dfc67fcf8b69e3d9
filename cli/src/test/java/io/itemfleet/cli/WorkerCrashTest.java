package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

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
    return FleetProcess.start(
        tmp.resolve(log),
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
        f.redisUrl(),
        // The restarted worker waits out its predecessor's leases (it cannot know that
        // predecessor is dead): keep that wait short here.
        "--lease-ttl",
        "5s",
        "--worker-id",
        "crash-test",
        "--metrics-port",
        "-1",
        "--concurrency",
        "64");
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
