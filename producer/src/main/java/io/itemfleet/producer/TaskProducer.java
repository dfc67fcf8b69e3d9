package io.itemfleet.producer;

import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Enqueues task messages for jobs. Idempotent Kafka producer (acks=all), key = item ID, batching
 * and compression tuned for many small messages. Thread-safe; one per process is plenty.
 *
 * <pre>{@code
 * try (TaskProducer producer = new TaskProducer(Map.of("bootstrap.servers", "localhost:9092"), new FleetTopics("fleet"))) {
 *   ProduceRun run = producer.startRun("nightly-2026-11-21", "process-video", Map.of("codeVersion", "1.4.2"));
 *   for (String id : ids) run.submit(id);
 *   ProduceRun.Result result = run.finish(Duration.ofMinutes(2)); // publishes the job manifest
 * }
 * }</pre>
 */
public final class TaskProducer implements AutoCloseable {
  /** The Kafka producer; owned. */
  private final Producer<String, byte[]> producer;

  /** Topic names. */
  private final FleetTopics topics;

  /** Encodes task messages and manifests. */
  private final MessageCodec codec;

  /** Stamps manifests. */
  private final Clock clock;

  public TaskProducer(Map<String, Object> kafkaProperties, FleetTopics topics) {
    this(
        new KafkaProducer<>(
            producerProperties(kafkaProperties), new StringSerializer(), new ByteArraySerializer()),
        topics,
        Clock.systemUTC());
  }

  TaskProducer(Producer<String, byte[]> producer, FleetTopics topics, Clock clock) {
    this.producer = producer;
    this.topics = topics;
    this.codec = new MessageCodec();
    this.clock = clock;
  }

  /**
   * Connects and learns the tasks and jobs topics' partitions now, so that the first send does not
   * wait for them (a produce run calls it while its input is still being checked).
   */
  public void warmUp() {
    producer.partitionsFor(topics.tasks());
    producer.partitionsFor(topics.jobs());
  }

  /**
   * The producer settings ItemFleet uses, over which {@code overrides} (bootstrap servers,
   * security, anything from FLEET_KAFKA_PROPERTIES) are laid. The benchmark's bare producer uses
   * the same.
   */
  public static Map<String, Object> producerProperties(Map<String, Object> overrides) {
    Map<String, Object> p = new HashMap<>();
    p.put("acks", "all");
    p.put("enable.idempotence", true);
    p.put("max.in.flight.requests.per.connection", 5);
    p.put("compression.type", "lz4");
    p.put("linger.ms", 10);
    p.put("batch.size", 256 * 1024);
    p.put("buffer.memory", 64L * 1024 * 1024);
    p.put("delivery.timeout.ms", 120_000);
    p.put("max.block.ms", 60_000);
    p.putAll(overrides);
    return p;
  }

  /**
   * Starts a produce run that adds items to {@code job}. Its manifest (with a fresh run ID) is
   * published by {@link ProduceRun#finish} once every message is acknowledged.
   */
  public ProduceRun startRun(String job, String type, Map<String, String> labels) {
    return startRun(job, type, labels, RecordForm.COMPACT);
  }

  /** The same, sending items without options or payload in {@code form}. */
  public ProduceRun startRun(String job, String type, Map<String, String> labels, RecordForm form) {
    return newRun(job, type, labels, false, form);
  }

  /**
   * Starts a run that re-drives failed items of {@code job} ({@code fleet replay}): like {@link
   * #startRun}, and every message carries the replay header, so a FAILED done marker does not
   * deduplicate it and its success resolves the failure row. The manifest adds the replayed count
   * to the job's expected total, so totals stay exact.
   */
  public ProduceRun startReplayRun(String job, String type) {
    return startReplayRun(job, type, RecordForm.COMPACT);
  }

  /** The same, sending items without options or payload in {@code form}. */
  public ProduceRun startReplayRun(String job, String type, RecordForm form) {
    return newRun(job, type, Map.of(), true, form);
  }

  /** A run with a fresh run ID on this producer. */
  private ProduceRun newRun(
      String job, String type, Map<String, String> labels, boolean replay, RecordForm form) {
    return new ProduceRun(
        producer,
        topics,
        codec,
        clock,
        job,
        type,
        UUID.randomUUID().toString(),
        labels,
        replay,
        form);
  }

  /**
   * Publishes a manifest on its own: {@code count} items of {@code job} were (or will be) sent by
   * another client, so the job gets its expected total and can complete. Keyed by job and run ID on
   * the compacted jobs topic, like every manifest ({@code JobEventKeys}); the recorder counts one
   * manifest per run ID once, so publishing the same run twice changes nothing.
   *
   * @throws IllegalArgumentException for a bad job, type, run ID or count
   * @throws IllegalStateException when the broker did not acknowledge it within {@code timeout}
   */
  public JobManifest publishManifest(
      String job,
      String type,
      long count,
      String runId,
      Map<String, String> labels,
      java.time.Duration timeout) {
    TaskMessage.of(job, type, "check"); // the same name rules as items' messages
    JobManifest m = new JobManifest(job, type, count, runId, clock.instant(), labels);
    try {
      producer
          .send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  topics.jobs(),
                  io.itemfleet.schemas.JobEventKeys.manifest(m),
                  codec.encodeJobEvent(m)))
          .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return m;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "the manifest of job " + job + " was not acknowledged: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing a manifest", e);
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
