package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secrets given in URLs and handler settings never reach what a command prints. */
class SecretsTest {
  @TempDir Path tmp;

  @Test
  void printConfigMasksRedisPasswordHandlerUrlCredentialsAndHeaders() throws Exception {
    Path yaml = tmp.resolve("fleet.yaml");
    Files.writeString(
        yaml,
        """
        types:
          call:
            handler: http
            url: http://user:SECRET@svc.local/hook?token=SECRET&x=1
            headers: {Authorization: "Bearer SECRET"}
        """);
    var r =
        ProduceCommandTest.fleet(
            "worker",
            "--print-config",
            "--config",
            yaml.toString(),
            "--redis-url",
            "redis://default:SECRET@127.0.0.1:6390/0",
            "--bootstrap",
            "kafka.local:9092");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out() + r.err()).doesNotContain("SECRET");
    assertThat(r.out())
        .contains("redis://***@127.0.0.1:6390/0")
        .contains("url             http://***@svc.local/hook?token=***&x=1")
        .contains("headers         {Authorization=***}")
        .contains("bootstrap            kafka.local:9092")
        .contains("concurrency          256");
  }

  @Test
  void databaseErrorsMaskThePasswordInTheJdbcUrl() {
    var r =
        ProduceCommandTest.fleet(
            "status",
            "--db-url",
            "jdbc:postgresql://127.0.0.1:1/fleet?user=postgres&password=SECRET&connectTimeout=2");
    assertThat(r.code()).isNotZero();
    assertThat(r.out() + r.err())
        .doesNotContain("SECRET")
        .contains(
            "cannot reach PostgreSQL at jdbc:postgresql://127.0.0.1:1/fleet?user=postgres&password=***");
  }

  /**
   * A malformed Redis URL's error quoted the whole URL (URISyntaxException's message ends with its
   * input), password and all, and a password holding '/' was printed as "not a port": the secret
   * went to stderr and the container's log. Through every command that takes the URL.
   */
  @Test
  void malformedRedisUrlsNeverPrintTheirPassword() {
    for (String url :
        java.util.List.of(
            "redis://default:SE^CRET@127.0.0.1:6390/0",
            "redis://:SECRET/x@127.0.0.1:6379",
            "redis://:SE CRET@127.0.0.1:6379")) {
      for (String[] args :
          new String[][] {
            {"worker", "--allow-no-types", "--bootstrap", "127.0.0.1:1", "--redis-url", url},
            {"worker", "--print-config", "--redis-url", url},
            {"replay", "some-job", "--dry-run", "--redis-url", url},
          }) {
        var r = ProduceCommandTest.fleet(args);
        String what = String.join(" ", args);
        assertThat(r.out() + r.err()).as(what).doesNotContain("CRET");
        if (!args[1].equals("--print-config")) {
          assertThat(r.code()).as(what).isNotZero();
          assertThat(r.err()).as(what).containsIgnoringCase("redis");
        }
      }
    }
  }
}
