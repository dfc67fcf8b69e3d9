package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleet local}: the whole system on embedded servers, in one process, with a demo job. */
class LocalCommandTest {
  @TempDir Path tmp;

  @Test
  void demoJobRunsToTheEndAndPrintsItsSummary() throws Exception {
    Path data = tmp.resolve("local");
    Process p =
        FleetProcess.start(
            tmp.resolve("local.log"),
            "local",
            "--items",
            "3000",
            "--workers",
            "2",
            "--latency",
            "5ms",
            "--failure-rate",
            "0.02",
            "--data-dir",
            data.toString(),
            "--kafka-port",
            "0",
            "--redis-port",
            "0",
            "--postgres-port",
            "0");
    assertThat(p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(tmp.resolve("local.log"));
    assertThat(p.exitValue()).as(log).isZero();
    assertThat(log)
        .contains("total         3,000")
        .containsPattern("succeeded +\\d")
        .contains("deduplicated  0")
        .contains("top failure fingerprints:")
        .contains("simulated.permanent")
        .contains("throughput:")
        .contains("jobs page on http://127.0.0.1:")
        .contains("logs go to " + data.resolve("fleet-local.log"));
    // Its own lines and the summary only: the servers' and the fleet's logs are in the file.
    assertThat(log).doesNotContain(" INFO ").doesNotContain("assigned [");
    assertThat(Files.readString(data.resolve("fleet-local.log"))).contains(" INFO ");
    assertThat(data.resolve("kafka")).isDirectory();
    assertThat(data.resolve(LocalCommand.MARKER)).exists();
  }

  @Test
  void refusesToWipeADirectoryItDidNotCreateEvenIfItLooksLikeOurs() throws Exception {
    Path decoy = tmp.resolve("decoy");
    Files.createDirectories(decoy.resolve("kafka"));
    Files.writeString(decoy.resolve("kafka/server.properties"), "keep me");
    var r = ProduceCommandTest.fleet("local", "--data-dir", decoy.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("was not created by fleet local").contains("kafka");
    assertThat(decoy.resolve("kafka/server.properties")).hasContent("keep me");
  }
}
