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
}
