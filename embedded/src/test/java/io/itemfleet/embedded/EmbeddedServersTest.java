package io.itemfleet.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

class EmbeddedServersTest {
  @TempDir Path tmp;

  @Test
  void kafkaBrokerCommitsAndHidesAbortedTransactions() throws Exception {
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(tmp.resolve("kafka"), 0, false);
        Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()))) {
      admin.createTopics(List.of(new NewTopic("t", 3, (short) 1))).all().get();
      Map<String, Object> pc =
          Map.of(
              "bootstrap.servers",
              kafka.bootstrap(),
              "transactional.id",
              "tx-1",
              "key.serializer",
              StringSerializer.class,
              "value.serializer",
              StringSerializer.class);
      try (KafkaProducer<String, String> p = new KafkaProducer<>(pc)) {
        p.initTransactions();
        p.beginTransaction();
        p.send(new ProducerRecord<>("t", "k", "kept"));
        p.commitTransaction();
        p.beginTransaction();
        p.send(new ProducerRecord<>("t", "k", "aborted"));
        p.flush();
        p.abortTransaction();
      }
      Map<String, Object> cc =
          Map.of(
              "bootstrap.servers",
              kafka.bootstrap(),
              "group.id",
              "g",
              "isolation.level",
              "read_committed",
              "auto.offset.reset",
              "earliest",
              "key.deserializer",
              StringDeserializer.class,
              "value.deserializer",
              StringDeserializer.class);
      List<String> seen = new java.util.ArrayList<>();
      try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cc)) {
        c.subscribe(List.of("t"));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (seen.isEmpty() && System.nanoTime() < deadline) {
          ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(200));
          rs.forEach(r -> seen.add(r.value()));
        }
        c.poll(Duration.ofMillis(300)).forEach(r -> seen.add(r.value()));
      }
      assertThat(seen).containsExactly("kept");
    }
    assertThat(tmp.resolve("kafka")).doesNotExist();
  }

  @Test
  void redisServerAnswersCommands() {
    try (EmbeddedRedisServer redis = EmbeddedRedisServer.start(0);
        RedisClient jedis = RedisClient.create(redis.url())) {
      jedis.set("k", "v");
      assertThat(jedis.get("k")).isEqualTo("v");
    }
  }

  @Test
  void postgresServerRunsSqlAndCleansUp() throws Exception {
    Path data = tmp.resolve("pg");
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, false);
        Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"));
        Statement st = c.createStatement()) {
      st.execute("create table t (id int primary key)");
      st.execute("insert into t values (1), (2)");
      try (ResultSet rs = st.executeQuery("select count(*) from t")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(2);
      }
    }
    assertThat(Files.exists(data.resolve("PG_VERSION"))).isFalse();
  }
}
