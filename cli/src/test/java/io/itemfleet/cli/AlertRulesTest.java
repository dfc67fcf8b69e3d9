package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** deploy/prometheus/alerts.yml is valid and its promtool unit tests pass. */
class AlertRulesTest {
  private static final Path DIR =
      Path.of("..", "deploy", "prometheus").toAbsolutePath().normalize();

  private static String promtool(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "promtool";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  static boolean havePromtool() {
    try {
      return new ProcessBuilder("promtool", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void alertRulesAreValidAndTheirUnitTestsPass() throws Exception {
    assumeThat(havePromtool())
        .as("promtool is not installed (Debian: apt-get install prometheus): alert rules untested")
        .isTrue();
    assertThat(promtool("check", "rules", "alerts.yml")).contains("SUCCESS: 11 rules found");
    assertThat(promtool("test", "rules", "alerts.test.yml")).contains("SUCCESS");
  }
}
