package io.itemfleet.worker;

import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test helpers around one TestFleet: topics, plain-ID producing, and reading committed outputs. */
final class FleetHarness {
  final TestFleet fleet;
  final FleetTopics topics;
  final MessageCodec codec = new MessageCodec();

  FleetHarness(TestFleet fleet, int partitions) {
    this.fleet = fleet;
    this.topics = new FleetTopics(fleet.prefix());
    List<String> suffixes =
        topics.all().stream().map(t -> t.substring(fleet.prefix().length() + 1)).toList();
    fleet.createTopics(partitions, suffixes.toArray(String[]::new));
  }

  Map<String, Object> kafka() {
    return Map.of("bootstrap.servers", fleet.kafkaBootstrap());
  }

  WorkerSettings settings(String workerId, int concurrency) {
    return WorkerSettings.defaults(kafka(), topics, workerId, concurrency)
        .withDrainTimeout(Duration.ofSeconds(10));
  }

  /** Settings of a worker that uses this test's Redis. */
  WorkerSettings redisSettings(String workerId, int concurrency) {
    return settings(workerId, concurrency)
        .withRedis(java.util.Optional.of(java.net.URI.create(fleet.redisUrl())));
  }

  /** Sends items as plain IDs with job and type headers. */
  void produce(String job, String type, List<String> items) {
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap(), "acks", "all"),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (String item : items) {
        ProducerRecord<String, byte[]> r =
            new ProducerRecord<>(topics.tasks(), item, item.getBytes(StandardCharsets.UTF_8));
        r.headers()
            .add(FleetHeaders.JOB, job.getBytes(StandardCharsets.UTF_8))
            .add(FleetHeaders.TYPE, type.getBytes(StandardCharsets.UTF_8));
        p.send(r);
      }
    }
  }

  void produceRaw(byte[] value, Map<String, String> headers) {
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap()),
            new StringSerializer(),
            new ByteArraySerializer())) {
      ProducerRecord<String, byte[]> r = new ProducerRecord<>(topics.tasks(), "raw", value);
      headers.forEach((k, v) -> r.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
      p.send(r);
    }
  }

  static List<String> ids(int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) out.add("item-" + i);
    return out;
  }

  /** Outcome totals and retries of a job, summed over the committed stats topic. */
  Totals totals(String job) {
    OutcomeCounts counts = OutcomeCounts.ZERO;
    long retries = 0;
    for (var r : fleet.readCommitted(topics.stats())) {
      StatsDelta d = codec.decodeStats(r.value()).orThrow();
      if (d.job().equals(job)) {
        counts = counts.plus(d.counts());
        retries += d.retries();
      }
    }
    return new Totals(counts, retries);
  }

  List<FailureEvent> failures() {
    return fleet.readCommitted(topics.failures()).stream()
        .map(r -> codec.decodeFailure(r.value()).orThrow())
        .toList();
  }

  record Totals(OutcomeCounts counts, long retries) {}
}
