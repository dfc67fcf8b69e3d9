package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Every user of a machine can read a process's flags (ps, /proc) and shells keep them: a secret
 * given as a flag draws a warning that names its environment variable. Nothing here needs a server;
 * each command fails to connect to an address that is not listening, after the warning.
 */
class SecretFlagsTest {
  private static final String WARNING = "holds a secret, and every user of this machine can read";

  @Test
  void aPasswordGivenAsAFlagIsWarnedAbout() {
    ProduceCommandTest.Run r =
        ProduceCommandTest.fleet(
            "status",
            "--db-url",
            "jdbc:postgresql://127.0.0.1:1/fleet",
            "--db-password",
            "hunter2");
    assertThat(r.err()).contains("--db-password " + WARNING).contains("FLEET_DB_PASSWORD");
    assertThat(r.err()).doesNotContain("hunter2");
  }

  @Test
  void aUrlWithAPasswordGivenAsAFlagIsWarnedAboutAndOneWithoutIsNot() {
    ProduceCommandTest.Run withPassword =
        ProduceCommandTest.fleet(
            "status", "--db-url", "jdbc:postgresql://127.0.0.1:1/fleet?password=hunter2");
    assertThat(withPassword.err()).contains("--db-url " + WARNING).doesNotContain("hunter2");
    ProduceCommandTest.Run plain =
        ProduceCommandTest.fleet("status", "--db-url", "jdbc:postgresql://127.0.0.1:1/fleet");
    assertThat(plain.err()).doesNotContain(WARNING);
  }

  @Test
  void aRedisUrlWithAPasswordGivenAsAFlagIsWarnedAbout() {
    ProduceCommandTest.Run r =
        ProduceCommandTest.fleet(
            "replay",
            "some-job",
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1",
            "--db-url",
            "jdbc:postgresql://127.0.0.1:1/fleet");
    assertThat(r.err()).contains("--redis-url " + WARNING).contains("FLEET_REDIS_URL");
    assertThat(r.err()).doesNotContain("hunter2");
  }

  @Test
  void aWebhookGivenAsAFlagIsWarnedAbout() {
    ProduceCommandTest.Run r =
        ProduceCommandTest.fleet(
            "alerts",
            "--webhook",
            "http://127.0.0.1:1/services/T000/B000/secret",
            "--window",
            "0s"); // refused right after the warning: nothing connects
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--webhook " + WARNING).contains("FLEET_ALERTS_WEBHOOK");
  }

  /**
   * A webhook URL the parser refuses, with the whitespace a Secret made from a file keeps: the
   * parser's message quotes the URL trimmed, and the redaction looked for it untrimmed, so the
   * token went to stderr (and the pod's log). Upper-case schemes and impossible ports are answered
   * too.
   */
  @Test
  void aWebhookThatIsNotAUrlIsRefusedWithoutEchoingIt() {
    ProduceCommandTest.Run bad =
        ProduceCommandTest.fleet("alerts", "--webhook", "https://x/hook?t=hunter2|b\n");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("not a valid URL").doesNotContain("hunter2");
    ProduceCommandTest.Run port =
        ProduceCommandTest.fleet("alerts", "--webhook", "http://127.0.0.1:70000/hunter2");
    assertThat(port.code()).isEqualTo(2);
    assertThat(port.err()).contains("port").doesNotContain("hunter2");
    ProduceCommandTest.Run upper =
        ProduceCommandTest.fleet(
            "alerts", "--webhook", "HTTP://127.0.0.1:1/hunter2", "--window", "0s");
    assertThat(upper.code()).isEqualTo(2);
    assertThat(upper.err()).contains("--window").doesNotContain("http:// or https://");
  }
}
