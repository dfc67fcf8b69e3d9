package io.itemfleet.recorder;

import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.ItemResolved;
import io.itemfleet.schemas.JobCompleted;
import io.itemfleet.schemas.JobEvent;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.StatsDelta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poll's records, decoded, with their partition and offset so that the ledger can skip what it
 * already applied. A message on our own topics that does not decode is logged and skipped (it can
 * carry no count); it is counted in {@link #undecodable}.
 */
final class IngestBatch {
  private static final Logger log = LoggerFactory.getLogger(IngestBatch.class);

  /** A decoded message at its coordinates. */
  record Entry<T>(TopicPartition tp, long offset, T value) {}

  final List<Entry<StatsDelta>> stats = new ArrayList<>();
  final List<Entry<FailureEvent>> failures = new ArrayList<>();
  final List<Entry<JobManifest>> manifests = new ArrayList<>();
  final List<Entry<ItemResolved>> resolutions = new ArrayList<>();

  /** Highest offset seen + 1, per partition, every record counted (decodable or not). */
  final Map<TopicPartition, Long> nextOffsets = new HashMap<>();

  /**
   * Where the consumer's fetch started for each partition in this batch: its position before the
   * poll. The ledger refuses a batch that starts beyond its stored next offset (a gap).
   */
  final Map<TopicPartition, Long> fetchStart = new HashMap<>();

  int undecodable;
  int records;

  static IngestBatch of(
      ConsumerRecords<byte[], byte[]> polled, FleetTopics topics, MessageCodec codec) {
    IngestBatch b = new IngestBatch();
    for (ConsumerRecord<byte[], byte[]> r : polled) {
      b.add(r, topics, codec);
    }
    return b;
  }

  /**
   * A poll's records with the consumer's positions: {@code before} the poll (where each partition's
   * fetch started) and {@code after} it, for every partition whose position is known. The positions
   * after are what the ledger stores, so that transaction markers and compacted records passed over
   * count as read.
   */
  static IngestBatch of(
      ConsumerRecords<byte[], byte[]> polled,
      Map<TopicPartition, Long> before,
      Map<TopicPartition, Long> after,
      FleetTopics topics,
      MessageCodec codec) {
    IngestBatch b = of(polled, topics, codec);
    for (TopicPartition tp : polled.partitions()) {
      Long start = before.get(tp);
      if (start != null) b.fetchStart.put(tp, start);
    }
    after.forEach((tp, next) -> b.nextOffsets.merge(tp, next, Math::max));
    return b;
  }

  void add(ConsumerRecord<byte[], byte[]> r, FleetTopics topics, MessageCodec codec) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    records++;
    nextOffsets.merge(tp, r.offset() + 1, Math::max);
    byte[] v = r.value() == null ? new byte[0] : r.value();
    if (r.topic().equals(topics.stats())) {
      keep(codec.decodeStats(v), r, tp, stats);
    } else if (r.topic().equals(topics.failures())) {
      keep(codec.decodeFailure(v), r, tp, failures);
    } else if (r.topic().equals(topics.jobs())) {
      Decoded<JobEvent> d = codec.decodeJobEvent(v);
      if (d instanceof Decoded.Ok<JobEvent> ok) {
        if (ok.value() instanceof JobManifest m) {
          manifests.add(new Entry<>(tp, r.offset(), m));
        } else if (ok.value() instanceof ItemResolved i) {
          resolutions.add(new Entry<>(tp, r.offset(), i));
        } else if (!(ok.value() instanceof JobCompleted)) {
          undecodable++;
        }
      } else {
        skip(r, d);
      }
    }
  }

  private <T> void keep(
      Decoded<T> d, ConsumerRecord<?, ?> r, TopicPartition tp, List<Entry<T>> to) {
    if (d instanceof Decoded.Ok<T> ok) {
      to.add(new Entry<>(tp, r.offset(), ok.value()));
    } else {
      skip(r, d);
    }
  }

  private void skip(ConsumerRecord<?, ?> r, Decoded<?> d) {
    undecodable++;
    log.warn(
        "skipping undecodable message at {}-{}@{}: {}",
        r.topic(),
        r.partition(),
        r.offset(),
        d.failure().map(Object::toString).orElse("?"));
  }

  boolean isEmpty() {
    return records == 0;
  }
}
