package io.itemfleet.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * One test's slice of the shared infrastructure: its own topic prefix, Redis key prefix and
 * PostgreSQL database, so that tests never see each other's data.
 *
 * @param prefix unique per test; use as FLEET_TOPIC_PREFIX, Redis key namespace and database name
 * @param jdbcUrl a database created for this test alone
 */
public record TestFleet(Infrastructure infrastructure, String prefix, String jdbcUrl) {

  public String kafkaBootstrap() {
    return infrastructure.kafkaBootstrap();
  }

  public String redisUrl() {
    return infrastructure.redisUrl();
  }

  /** Prefix for every Redis key this test writes, e.g. {@code it-3f9a1c2b:}. */
  public String redisKeyPrefix() {
    return prefix + ":";
  }

  /** A topic name under this test's prefix, e.g. {@code topic("tasks")}. */
  public String topic(String suffix) {
    return prefix + "." + suffix;
  }

  public String dbUser() {
    return infrastructure.dbUser();
  }

  public String dbPassword() {
    return infrastructure.dbPassword();
  }

  /** An admin client for the broker; the caller closes it. */
  public Admin admin() {
    return Admin.create(Map.of("bootstrap.servers", kafkaBootstrap()));
  }

  /** Creates topics under this test's prefix, each with {@code partitions} partitions. */
  public void createTopics(int partitions, String... suffixes) {
    try (Admin admin = admin()) {
      admin
          .createTopics(
              java.util.Arrays.stream(suffixes)
                  .map(s -> new NewTopic(topic(s), partitions, (short) 1))
                  .toList())
          .all()
          .get();
      awaitServing(admin, java.util.Arrays.stream(suffixes).map(this::topic).toList());
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "could not create topics " + List.of(suffixes) + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating topics", e);
    }
  }

  /**
   * Waits until every partition's leader answers: producing into a partition announced but not yet
   * created can fail an idempotent producer for good (OutOfOrderSequenceException).
   */
  private static void awaitServing(Admin admin, List<String> topics) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      try {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec>
            request = new java.util.HashMap<>();
        admin
            .describeTopics(topics)
            .allTopicNames()
            .get()
            .forEach(
                (name, d) ->
                    d.partitions()
                        .forEach(
                            p ->
                                request.put(
                                    new org.apache.kafka.common.TopicPartition(name, p.partition()),
                                    org.apache.kafka.clients.admin.OffsetSpec.latest())));
        admin.listOffsets(request).all().get();
        return;
      } catch (ExecutionException e) {
        if (System.nanoTime() > deadline)
          throw new IllegalStateException("topics " + topics + " never started serving", e);
        Thread.sleep(50);
      }
    }
  }

  /**
   * Every committed record of {@code topic} up to its current last stable offset, read with
   * read_committed: a snapshot, returned as soon as it is read, however busy the topic is.
   */
  public List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> readCommitted(
      String topic) {
    List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> out =
        new java.util.ArrayList<>();
    Map<String, Object> p =
        Map.of(
            "bootstrap.servers",
            kafkaBootstrap(),
            "isolation.level",
            "read_committed",
            "enable.auto.commit",
            false);
    try (var c =
        new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            p,
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<org.apache.kafka.common.TopicPartition> tps =
          c.partitionsFor(topic).stream()
              .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition()))
              .toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(tps);
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline)
          throw new IllegalStateException("could not read " + topic + " to its end within 30 s");
        c.poll(java.time.Duration.ofMillis(100))
            .forEach(
                r -> {
                  if (r.offset()
                      < end.get(
                          new org.apache.kafka.common.TopicPartition(r.topic(), r.partition())))
                    out.add(r);
                });
      }
    }
    return out;
  }

  /** A new connection to this test's database. */
  public Connection connect() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", dbUser());
    p.setProperty("password", dbPassword());
    return DriverManager.getConnection(jdbcUrl, p);
  }

  /** Creates this test's database on the shared server. */
  static TestFleet create(Infrastructure infra, String prefix) {
    String database = prefix.replace('-', '_');
    Properties p = new Properties();
    p.setProperty("user", infra.dbUser());
    p.setProperty("password", infra.dbPassword());
    try (Connection c = DriverManager.getConnection(infra.adminDbUrl(), p);
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + database);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not create test database "
              + database
              + " via "
              + infra.adminDbUrl()
              + ": "
              + e.getMessage(),
          e);
    }
    return new TestFleet(infra, prefix, withDatabase(infra.adminDbUrl(), database));
  }

  /** Replaces the database of a {@code jdbc:postgresql://host:port/db?params} URL. */
  static String withDatabase(String jdbcUrl, String database) {
    int hostStart = jdbcUrl.indexOf("//");
    if (!jdbcUrl.startsWith("jdbc:postgresql:") || hostStart < 0) {
      throw new IllegalArgumentException(
          "not a jdbc:postgresql://host:port/database URL: " + jdbcUrl);
    }
    int slash = jdbcUrl.indexOf('/', hostStart + 2);
    int query = jdbcUrl.indexOf('?');
    String params = query < 0 ? "" : jdbcUrl.substring(query);
    String hostPart =
        slash < 0
            ? (query < 0 ? jdbcUrl : jdbcUrl.substring(0, query))
            : jdbcUrl.substring(0, slash);
    return hostPart + "/" + database + params;
  }
}
