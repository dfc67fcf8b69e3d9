package io.itemfleet.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.HeaderLookup;
import io.itemfleet.schemas.JobEvent;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FleetTestKit.class)
class TaskProducerTest {
  private final MessageCodec codec = new MessageCodec();

  @Test
  void runEnqueuesKeyedTaskMessagesThenOneManifest(TestFleet fleet) {
    FleetTopics topics = new FleetTopics(fleet.prefix());
    ensure(fleet, topics, 3);
    ProduceRun.Result result;
    try (TaskProducer producer =
        new TaskProducer(Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics)) {
      ProduceRun run = producer.startRun("job-1", "sim", Map.of("codeVersion", "1.2"));
      for (int i = 0; i < 1000; i++) run.submit("item-" + i);
      result = run.finish(Duration.ofSeconds(30));
    }
    assertThat(result.complete()).isTrue();
    assertThat(result.acknowledged()).isEqualTo(1000);
    List<ConsumerRecord<String, byte[]>> tasks = readAll(fleet, topics.tasks(), 1000);
    assertThat(tasks)
        .hasSize(1000)
        .allSatisfy(
            r -> {
              TaskMessage t = codec.decodeTask(r.value(), headers(r)).orThrow();
              assertThat(t.job()).isEqualTo("job-1");
              assertThat(r.key()).isEqualTo(t.item());
            });
    JobEvent manifest =
        codec.decodeJobEvent(readAll(fleet, topics.jobs(), 1).get(0).value()).orThrow();
    assertThat(manifest)
        .isInstanceOfSatisfying(
            JobManifest.class,
            m -> {
              assertThat(m.count()).isEqualTo(1000);
              assertThat(m.labels()).containsEntry("codeVersion", "1.2");
            });
  }

  @Test
  void replayRunsCarryTheReplayMarkInEitherRecordForm(TestFleet fleet) {
    FleetTopics topics = new FleetTopics(fleet.prefix());
    ensure(fleet, topics, 1);
    try (TaskProducer producer =
        new TaskProducer(Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics)) {
      ProduceRun compact = producer.startReplayRun("job-r", "sim", RecordForm.COMPACT);
      compact.submit("c1");
      assertThat(compact.finish(Duration.ofSeconds(30)).complete()).isTrue();
      ProduceRun headed = producer.startReplayRun("job-r", "sim", RecordForm.HEADERS);
      headed.submit("h1");
      headed.submit("{odd"); // not a plain ID: goes as JSON in the headers form
      assertThat(headed.finish(Duration.ofSeconds(30)).complete()).isTrue();
    }
    List<ConsumerRecord<String, byte[]>> tasks = readAll(fleet, topics.tasks(), 3);
    assertThat(tasks).hasSize(3);
    for (ConsumerRecord<String, byte[]> r : tasks) {
      assertThat(r.headers().lastHeader(FleetHeaders.REPLAY)).as(r.key()).isNotNull();
      TaskMessage t = codec.decodeTask(r.value(), headers(r)).orThrow();
      assertThat(t.item()).isEqualTo(r.key());
      assertThat(t.job()).isEqualTo("job-r");
      switch (r.key()) {
        case "c1" -> {
          assertThat(r.value()[0]).isEqualTo(MessageCodec.COMPACT);
          assertThat(r.headers().lastHeader(FleetHeaders.JOB)).isNull();
        }
        case "h1" -> {
          assertThat(r.value()).isEqualTo("h1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
          assertThat(r.headers().lastHeader(FleetHeaders.JOB)).isNotNull();
        }
        default -> assertThat(r.value()[0]).isEqualTo((byte) '{');
      }
    }
  }

  @Test
  void twoRunsOfOneJobPublishTwoManifestsWithDistinctRunIds(TestFleet fleet) {
    FleetTopics topics = new FleetTopics(fleet.prefix());
    ensure(fleet, topics, 1);
    try (TaskProducer producer =
        new TaskProducer(Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics)) {
      for (int run = 0; run < 2; run++) {
        ProduceRun r = producer.startRun("job-2", "sim", Map.of());
        for (int i = 0; i < 10; i++) r.submit("x" + i);
        assertThat(r.finish(Duration.ofSeconds(30)).complete()).isTrue();
      }
    }
    List<JobManifest> manifests =
        readAll(fleet, topics.jobs(), 2).stream()
            .map(r -> (JobManifest) codec.decodeJobEvent(r.value()).orThrow())
            .toList();
    assertThat(manifests).extracting(JobManifest::count).containsExactly(10L, 10L);
    assertThat(manifests.get(0).runId()).isNotEqualTo(manifests.get(1).runId());
  }

  @Test
  void messageForAnotherJobIsRefused(TestFleet fleet) {
    try (TaskProducer producer =
        new TaskProducer(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap()), new FleetTopics(fleet.prefix()))) {
      ProduceRun run = producer.startRun("job-a", "sim", Map.of());
      assertThatThrownBy(() -> run.submit(TaskMessage.of("job-b", "sim", "1")))
          .hasMessageContaining("job-b");
    }
  }

  static HeaderLookup headers(ConsumerRecord<?, ?> r) {
    return name ->
        java.util.Optional.ofNullable(r.headers().lastHeader(name))
            .map(h -> new String(h.value(), java.nio.charset.StandardCharsets.UTF_8));
  }

  static void ensure(TestFleet fleet, FleetTopics topics, int partitions) {
    try (TopicAdmin admin =
        new TopicAdmin(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics, Duration.ofSeconds(15))) {
      admin.ensureTopics(partitions, (short) 1);
    }
  }

  static List<ConsumerRecord<String, byte[]>> readAll(TestFleet fleet, String topic, int expected) {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", fleet.kafkaBootstrap());
    p.put("group.id", "reader-" + System.nanoTime());
    p.put("auto.offset.reset", "earliest");
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      c.poll(Duration.ofMillis(200)).forEach(out::add);
    }
    return out;
  }
}
