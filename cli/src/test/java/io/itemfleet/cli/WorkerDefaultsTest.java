package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A worker's default job and type name the plain items without headers; a default that breaks the
 * name rule would make every such item POISON, so it is refused at start-up (nothing connects).
 */
class WorkerDefaultsTest {
  @Test
  void aDefaultJobThatBreaksTheNameRuleIsRefusedAtStartUp() {
    ProduceCommandTest.Run r =
        ProduceCommandTest.fleet(
            "worker", "--default-job", "caf\uFFFD", "--no-redis", "--bootstrap", "127.0.0.1:1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--default-job: the job name contains U+FFFD");
    ProduceCommandTest.Run type =
        ProduceCommandTest.fleet(
            "worker", "--default-type", "t\u0007", "--no-redis", "--bootstrap", "127.0.0.1:1");
    assertThat(type.code()).isEqualTo(2);
    assertThat(type.err()).contains("--default-type: the type name contains control character");
  }
}
