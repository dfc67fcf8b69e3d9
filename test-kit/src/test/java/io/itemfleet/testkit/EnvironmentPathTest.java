package io.itemfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

/**
 * The FLEET_TEST_* path: services named by variables are used as they are. Runs against the
 * machine's own Redis (6379) and PostgreSQL (5432) when they listen, and against this JVM's broker
 * as the "external" Kafka.
 */
@ExtendWith(FleetTestKit.class)
class EnvironmentPathTest {
  @Test
  void servicesNamedByVariablesAreUsedAsGiven(TestFleet shared) throws Exception {
    assumeTrue(listening(6379) && listening(5432), "no Redis on 6379 or PostgreSQL on 5432 here");
    Map<String, String> env =
        Map.of(
            "FLEET_TEST_KAFKA_BOOTSTRAP", shared.kafkaBootstrap(),
            "FLEET_TEST_REDIS_URL", "redis://127.0.0.1:6379",
            "FLEET_TEST_DB_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
    Infrastructure infra = Infrastructure.start(InfrastructurePlan.choose(env, false));
    assertThat(infra.plan().kafka()).isEqualTo(Source.ENVIRONMENT);
    assertThat(infra.redisUrl()).isEqualTo("redis://127.0.0.1:6379");
    TestFleet fleet = TestFleet.create(infra, "it-env-" + Long.toHexString(System.nanoTime()));
    assertThat(fleet.jdbcUrl()).startsWith("jdbc:postgresql://127.0.0.1:5432/it_env_");
    assertThat(SharedInfrastructureTest.ServiceChecks.currentDatabase(fleet))
        .isEqualTo(fleet.prefix().replace('-', '_'));
    assertThat(SharedInfrastructureTest.ServiceChecks.roundTripKafka(fleet)).isEqualTo("hello");
    try (RedisClient redis = RedisClient.create(fleet.redisUrl())) {
      redis.setex(fleet.redisKeyPrefix() + "k", 60, "v");
      assertThat(redis.get(fleet.redisKeyPrefix() + "k")).isEqualTo("v");
      redis.del(fleet.redisKeyPrefix() + "k");
    }
    try (var c =
            java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
        var st = c.createStatement()) {
      st.execute("DROP DATABASE " + fleet.prefix().replace('-', '_'));
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
