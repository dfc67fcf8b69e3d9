package io.itemfleet.embedded;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka, Redis and PostgreSQL, all real and all in or under this process, started together (Kafka
 * and PostgreSQL in parallel, as each takes seconds) and stopped in reverse order.
 */
public final class EmbeddedStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedStack.class);

  /** The broker. */
  private final EmbeddedKafkaBroker kafka;

  /** The Redis server. */
  private final EmbeddedRedisServer redis;

  /** The PostgreSQL server. */
  private final EmbeddedPostgresServer postgres;

  private EmbeddedStack(
      EmbeddedKafkaBroker kafka, EmbeddedRedisServer redis, EmbeddedPostgresServer postgres) {
    this.kafka = kafka;
    this.redis = redis;
    this.postgres = postgres;
  }

  /**
   * Starts all three with their data under {@code dataDir} ({@code kafka/}, {@code postgres/}).
   *
   * @param keepData keep the data on close, so that a later start finds it again
   */
  public static EmbeddedStack start(Path dataDir, boolean keepData) {
    return start(dataDir, keepData, 0, 0, 0);
  }

  /** As {@link #start(Path, boolean)}, on these ports; 0 picks a free one. */
  public static EmbeddedStack start(
      Path dataDir, boolean keepData, int kafkaPort, int redisPort, int postgresPort) {
    long t0 = System.nanoTime();
    // Redis first, alone: it writes its binary and then executes it, and a process forked by the
    // PostgreSQL start in that window would hold the file open for writing (ETXTBSY).
    EmbeddedRedisServer redis = EmbeddedRedisServer.start(redisPort);
    CompletableFuture<EmbeddedPostgresServer> pg =
        CompletableFuture.supplyAsync(
            () ->
                postgresPort == 0
                    ? EmbeddedPostgresServer.start(dataDir.resolve("postgres"), keepData)
                    : EmbeddedPostgresServer.start(
                        dataDir.resolve("postgres"), keepData, postgresPort));
    EmbeddedKafkaBroker kafka = null;
    try {
      kafka = EmbeddedKafkaBroker.start(dataDir.resolve("kafka"), kafkaPort, keepData);
      EmbeddedStack stack = new EmbeddedStack(kafka, redis, pg.join());
      log.info(
          "embedded Kafka, Redis and PostgreSQL up in {} ms", (System.nanoTime() - t0) / 1_000_000);
      return stack;
    } catch (RuntimeException e) {
      if (kafka != null) kafka.close();
      redis.close();
      pg.thenAccept(EmbeddedPostgresServer::close);
      throw e instanceof CompletionException && e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  public String kafkaBootstrap() {
    return kafka.bootstrap();
  }

  public String redisUrl() {
    return redis.url();
  }

  /** JDBC URL of {@code database}; user {@code postgres}, no password. */
  public String jdbcUrl(String database) {
    return postgres.jdbcUrl(database);
  }

  /** Stops PostgreSQL, then Redis, then Kafka: the reverse of what the fleet depends on first. */
  @Override
  public void close() {
    postgres.close();
    redis.close();
    kafka.close();
  }
}
