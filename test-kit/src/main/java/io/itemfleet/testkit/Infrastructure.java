package io.itemfleet.testkit;

import io.itemfleet.embedded.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The running Kafka, Redis and PostgreSQL that tests use: started at most once per JVM, following
 * an {@link InfrastructurePlan}, stopped when the JVM exits.
 *
 * @param adminDbUrl JDBC URL of an existing database, used to create per-test databases
 */
public record Infrastructure(
    InfrastructurePlan plan,
    String kafkaBootstrap,
    String redisUrl,
    String adminDbUrl,
    String dbUser,
    String dbPassword) {

  private static final Logger log = LoggerFactory.getLogger(Infrastructure.class);

  /** The JVM's shared instance; guarded by the class lock. */
  private static Infrastructure shared;

  /** The infrastructure for this JVM, started on first use. */
  public static synchronized Infrastructure shared() {
    if (shared == null) {
      // Ask Docker only when some service is not named by a FLEET_TEST_* variable.
      boolean docker =
          InfrastructurePlan.choose(System.getenv(), false).needsEmbedded() && dockerAvailable();
      shared = start(InfrastructurePlan.choose(System.getenv(), docker));
    }
    return shared;
  }

  /** Starts what {@code plan} asks for; whatever is started is stopped by a shutdown hook. */
  public static Infrastructure start(InfrastructurePlan plan) {
    List<AutoCloseable> started = new ArrayList<>();
    EmbeddedStack embedded = null;
    if (plan.needsEmbedded()) {
      try {
        Path dir = Files.createTempDirectory("itemfleet-test-");
        embedded = EmbeddedStack.start(dir, false);
        started.add(embedded);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    String kafka =
        switch (plan.kafka()) {
          case ENVIRONMENT -> plan.kafkaBootstrap().orElseThrow();
          case TESTCONTAINERS -> {
            KafkaContainer c = new KafkaContainer("apache/kafka:4.1.1");
            c.start();
            started.add(c);
            yield c.getBootstrapServers();
          }
          case EMBEDDED -> embedded.kafkaBootstrap();
        };
    String redis =
        switch (plan.redis()) {
          case ENVIRONMENT -> plan.redisUrl().orElseThrow();
          case TESTCONTAINERS -> {
            GenericContainer<?> c =
                new GenericContainer<>("redis:7.4-alpine").withExposedPorts(6379);
            c.start();
            started.add(c);
            yield "redis://" + c.getHost() + ":" + c.getMappedPort(6379);
          }
          case EMBEDDED -> embedded.redisUrl();
        };
    String db;
    String user = plan.dbUser();
    String password = plan.dbPassword();
    switch (plan.postgres()) {
      case ENVIRONMENT -> db = plan.dbUrl().orElseThrow();
      case TESTCONTAINERS -> {
        PostgreSQLContainer c = new PostgreSQLContainer("postgres:16-alpine");
        c.start();
        started.add(c);
        db = c.getJdbcUrl();
        user = c.getUsername();
        password = c.getPassword();
      }
      default -> db = embedded.jdbcUrl("postgres");
    }
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> stopAll(started), "itemfleet-test-infrastructure-stop"));
    Infrastructure infra = new Infrastructure(plan, kafka, redis, db, user, password);
    log.info(
        "test infrastructure: Kafka {} ({}), Redis {} ({}), PostgreSQL {} ({})",
        plan.kafka(),
        kafka,
        plan.redis(),
        redis,
        plan.postgres(),
        db);
    return infra;
  }

  private static void stopAll(List<AutoCloseable> started) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        log.warn("stopping test infrastructure: {}", e.toString());
      }
    }
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
