package io.itemfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The Docker path; skipped cleanly where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class TestcontainersPathTest {
  @Test
  void containersServeKafkaRedisAndPostgres() throws Exception {
    Infrastructure infra = Infrastructure.start(InfrastructurePlan.choose(Map.of(), true));
    TestFleet fleet = TestFleet.create(infra, "it-tc-" + Long.toHexString(System.nanoTime()));
    assertThat(infra.plan().kafka()).isEqualTo(Source.TESTCONTAINERS);
    assertThat(SharedInfrastructureTest.ServiceChecks.roundTripKafka(fleet)).isEqualTo("hello");
    assertThat(SharedInfrastructureTest.ServiceChecks.currentDatabase(fleet))
        .isEqualTo(fleet.prefix().replace('-', '_'));
  }
}
