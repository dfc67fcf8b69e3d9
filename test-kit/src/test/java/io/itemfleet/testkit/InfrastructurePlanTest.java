package io.itemfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InfrastructurePlanTest {
  @Test
  void variablesWinOverDockerAndEmbedded() {
    InfrastructurePlan p =
        InfrastructurePlan.choose(
            Map.of(
                "FLEET_TEST_KAFKA_BOOTSTRAP",
                "k:9092",
                "FLEET_TEST_DB_URL",
                "jdbc:postgresql://db/x"),
            true);
    assertThat(p.kafka()).isEqualTo(Source.ENVIRONMENT);
    assertThat(p.kafkaBootstrap()).contains("k:9092");
    assertThat(p.postgres()).isEqualTo(Source.ENVIRONMENT);
    assertThat(p.redis()).isEqualTo(Source.TESTCONTAINERS);
  }

  @Test
  void withoutVariablesOrDockerEverythingIsEmbedded() {
    InfrastructurePlan p = InfrastructurePlan.choose(Map.of("FLEET_TEST_REDIS_URL", "  "), false);
    assertThat(p.kafka()).isEqualTo(Source.EMBEDDED);
    assertThat(p.redis()).isEqualTo(Source.EMBEDDED);
    assertThat(p.postgres()).isEqualTo(Source.EMBEDDED);
    assertThat(p.dbUser()).isEqualTo("postgres");
  }

  @Test
  void databaseIsReplacedInJdbcUrls() {
    assertThat(TestFleet.withDatabase("jdbc:postgresql://h:5432/postgres?ssl=false", "it_1"))
        .isEqualTo("jdbc:postgresql://h:5432/it_1?ssl=false");
    assertThat(TestFleet.withDatabase("jdbc:postgresql://h:5432", "it_1"))
        .isEqualTo("jdbc:postgresql://h:5432/it_1");
  }
}
