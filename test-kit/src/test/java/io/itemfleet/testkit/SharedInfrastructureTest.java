package io.itemfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

/**
 * The path this JVM took (embedded when no FLEET_TEST_* variable is set and no Docker runs) works
 * end to end.
 */
@ExtendWith(FleetTestKit.class)
class SharedInfrastructureTest {

  @Test
  void withNoVariablesAndNoDockerTheEmbeddedServersAreUsed(TestFleet fleet) {
    assumeTrue(
        System.getenv("FLEET_TEST_KAFKA_BOOTSTRAP") == null
            && System.getenv("FLEET_TEST_REDIS_URL") == null
            && System.getenv("FLEET_TEST_DB_URL") == null,
        "FLEET_TEST_* variables are set");
    assumeTrue(
        !org.testcontainers.DockerClientFactory.instance().isDockerAvailable(),
        "Docker is available");
    InfrastructurePlan plan = fleet.infrastructure().plan();
    assertThat(List.of(plan.kafka(), plan.redis(), plan.postgres())).containsOnly(Source.EMBEDDED);
    assertThat(fleet.redisUrl()).isNotEqualTo("redis://127.0.0.1:6379");
    assertThat(fleet.jdbcUrl()).doesNotContain(":5432/");
  }

  @Test
  void kafkaRedisAndPostgresAnswer(TestFleet fleet) throws Exception {
    assertThat(ServiceChecks.roundTripKafka(fleet)).isEqualTo("hello");
    try (RedisClient redis = RedisClient.create(fleet.redisUrl())) {
      redis.set(fleet.redisKeyPrefix() + "k", "v");
      assertThat(redis.get(fleet.redisKeyPrefix() + "k")).isEqualTo("v");
    }
    assertThat(ServiceChecks.currentDatabase(fleet)).isEqualTo(fleet.prefix().replace('-', '_'));
  }

  @Test
  void eachTestGetsItsOwnPrefixAndDatabase(TestFleet fleet) {
    TestFleet other =
        TestFleet.create(fleet.infrastructure(), "it-other" + System.nanoTime() % 100000);
    assertThat(other.prefix()).isNotEqualTo(fleet.prefix());
    assertThat(other.jdbcUrl()).isNotEqualTo(fleet.jdbcUrl());
  }

  /** Small end-to-end checks shared by the path tests. */
  static final class ServiceChecks {
    static String roundTripKafka(TestFleet fleet) throws Exception {
      fleet.createTopics(1, "probe");
      try (KafkaProducer<String, String> p =
          new KafkaProducer<>(
              Map.of(
                  "bootstrap.servers",
                  fleet.kafkaBootstrap(),
                  "key.serializer",
                  StringSerializer.class,
                  "value.serializer",
                  StringSerializer.class))) {
        p.send(new ProducerRecord<>(fleet.topic("probe"), "k", "hello")).get();
      }
      try (KafkaConsumer<String, String> c =
          new KafkaConsumer<>(
              Map.of(
                  "bootstrap.servers",
                  fleet.kafkaBootstrap(),
                  "group.id",
                  fleet.prefix(),
                  "auto.offset.reset",
                  "earliest",
                  "key.deserializer",
                  StringDeserializer.class,
                  "value.deserializer",
                  StringDeserializer.class))) {
        c.subscribe(List.of(fleet.topic("probe")));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
          for (var r : c.poll(Duration.ofMillis(200))) {
            return r.value();
          }
        }
      }
      return "nothing consumed";
    }

    static String currentDatabase(TestFleet fleet) throws Exception {
      try (Connection c = fleet.connect();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("select current_database()")) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
