package io.itemfleet.worker;

import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.ItemResolved;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits finished work: takes each partition's contiguous finished prefix out of its window and
 * writes its outputs (failure events, retry messages, resolved events, stats deltas) with its
 * offsets in one Kafka transaction — the guarantee that an item's outcome is counted exactly when
 * its offset commits (docs/ARCHITECTURE.md, "Exactly once"). At most one transaction is in flight,
 * on the committer thread, which owns the producer while it runs; otherwise the poll thread does. A
 * failed transaction is aborted and the assignment rewound to the committed offsets; a fenced
 * producer stops the worker.
 */
final class CommitPipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommitPipeline.class);

  /**
   * Finished prefixes taken from the windows, to be committed in one transaction.
   *
   * @param replayRetries retry messages of replayed records, which keep the replay header
   * @param resolved replayed items that succeeded, whose failure rows the recorder resolves
   */
  private record Batch(
      List<ItemResult> results,
      Map<TopicPartition, OffsetAndMetadata> offsets,
      Set<TaskMessage> replayRetries,
      List<ItemResolved> resolved) {}

  /** A transaction running on the committer thread. */
  private record Pending(Batch batch, Future<?> done, long startNanos) {}

  private final WorkerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final PartitionTable partitions;
  private final Lanes lanes;
  private final ItemExecutor executor;
  private final WorkerMetrics metrics;
  private final MessageCodec codec;
  private final Clock clock;

  /** Runs transactions so that the poll thread need not wait for their round trips. */
  private final ExecutorService committer;

  /** The transaction in flight on the committer thread, or null. */
  private Pending pending;

  CommitPipeline(
      WorkerSettings settings,
      Consumer<byte[], byte[]> consumer,
      Producer<String, byte[]> producer,
      PartitionTable partitions,
      Lanes lanes,
      ItemExecutor executor,
      WorkerMetrics metrics,
      MessageCodec codec,
      Clock clock) {
    this.settings = settings;
    this.consumer = consumer;
    this.producer = producer;
    this.partitions = partitions;
    this.lanes = lanes;
    this.executor = executor;
    this.metrics = metrics;
    this.codec = codec;
    this.clock = clock;
    this.committer =
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("fleet-commit-" + settings.workerId()).unstarted(r));
  }

  /** True when no transaction is in flight. */
  boolean idle() {
    return pending == null;
  }

  /**
   * Starts committing the finished prefixes on the committer thread, so lanes keep being fed while
   * the transaction round trips run. Only when {@link #idle()}.
   */
  void start() {
    Batch b = takeFinished();
    if (b == null) return;
    ConsumerGroupMetadata group = consumer.groupMetadata();
    long t0 = System.nanoTime();
    pending = new Pending(b, committer.submit(() -> write(b, group)), t0);
  }

  /**
   * Collects the in-flight transaction once it has ended, or waits for it when {@code wait}; a
   * failed one is aborted and the assignment rewound to the committed offsets.
   */
  void settle(boolean wait) {
    Pending p = pending;
    if (p == null || (!wait && !p.done().isDone())) return;
    pending = null;
    try {
      p.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a commit was in flight", e);
    } catch (ExecutionException e) {
      onFailure(p.batch(), e.getCause());
      return;
    }
    afterCommit(p.batch(), p.startNanos());
  }

  /** Commits the finished prefix of every partition with its outputs now, on this thread. */
  void commitNow() {
    settle(true);
    Batch b = takeFinished();
    if (b == null) return;
    long t0 = System.nanoTime();
    try {
      write(b, consumer.groupMetadata());
    } catch (RuntimeException e) {
      onFailure(b, e);
      return;
    }
    afterCommit(b, t0);
  }

  /**
   * Takes every partition's contiguous finished prefix out of its window; null when none finished.
   */
  private Batch takeFinished() {
    int finished = lanes.takeFinishedCount();
    List<ItemResult> results = new ArrayList<>(finished + finished / 4 + 16);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    Set<TaskMessage> replayRetries = Collections.newSetFromMap(new IdentityHashMap<>());
    List<ItemResolved> resolved = new ArrayList<>();
    for (PartitionState s : partitions.all()) {
      long last = -1;
      for (PartitionState.Slot slot = partitions.takeFinished(s);
          slot != null;
          slot = partitions.takeFinished(s)) {
        results.add(slot.result);
        last = slot.record.offset();
        if (slot.replay) replayed(slot, replayRetries, resolved);
      }
      if (last >= 0) {
        offsets.put(s.partition, new OffsetAndMetadata(last + 1));
      }
    }
    return offsets.isEmpty() ? null : new Batch(results, offsets, replayRetries, resolved);
  }

  /** A replayed record: its retry keeps the replay mark; its success resolves the failure. */
  private void replayed(
      PartitionState.Slot slot, Set<TaskMessage> replayRetries, List<ItemResolved> resolved) {
    ItemResult r = slot.result;
    r.retry().ifPresent(replayRetries::add);
    // DEDUPLICATED: a replay only is when the item's done marker says it succeeded since.
    boolean ok =
        r.outcome()
            .filter(o -> o == Outcome.SUCCEEDED || o == Outcome.CACHED || o == Outcome.DEDUPLICATED)
            .isPresent();
    if (ok) {
      executor
          .decode(slot.record)
          .asOptional()
          .ifPresent(
              t -> resolved.add(new ItemResolved(t.job(), t.type(), t.item(), r.finishedAt())));
    }
  }

  /** One transaction: failure events, retry messages and stats deltas of a batch, its offsets. */
  private Void write(Batch b, ConsumerGroupMetadata group) {
    FleetTopics topics = settings.topics();
    StatsAccumulator stats = new StatsAccumulator();
    producer.beginTransaction();
    long now = clock.millis();
    for (ItemResult r : b.results()) {
      if (!r.isDeferral()) stats.add(r);
      if (r.failure().isPresent()) {
        producer.send(
            new ProducerRecord<>(
                topics.failures(),
                r.failure().get().item().orElse(null),
                codec.encodeFailure(r.failure().get())));
      }
      if (r.retry().isPresent()) {
        producer.send(retryRecord(topics, r, b.replayRetries().contains(r.retry().get()), now));
      }
    }
    for (ItemResolved e : b.resolved()) {
      producer.send(
          new ProducerRecord<>(
              topics.jobs(),
              io.itemfleet.schemas.JobEventKeys.resolved(e.job(), e.item()),
              codec.encodeJobEvent(e)));
    }
    for (StatsDelta d : stats.drain()) {
      producer.send(new ProducerRecord<>(topics.stats(), d.job(), codec.encodeStats(d)));
    }
    producer.sendOffsetsToTransaction(b.offsets(), group);
    producer.commitTransaction();
    return null;
  }

  /** A retry message, on the tier for its delay, keeping the replay and unknown-type marks. */
  private ProducerRecord<String, byte[]> retryRecord(
      FleetTopics topics, ItemResult r, boolean replay, long now) {
    TaskMessage next = r.retry().get();
    long delay = DelayedRetries.millis(next.notBefore().orElseThrow()) - now;
    ProducerRecord<String, byte[]> retry =
        new ProducerRecord<>(
            topics.retry(DelayedRetries.tierFor(delay)), next.item(), codec.encodeTask(next));
    if (replay) {
      retry.headers().add(FleetHeaders.REPLAY, new byte[] {'1'});
    }
    if (r.unknownTypeSince() > 0) {
      retry
          .headers()
          .add(
              FleetHeaders.UNKNOWN_SINCE,
              Long.toString(r.unknownTypeSince()).getBytes(StandardCharsets.US_ASCII));
    }
    return retry;
  }

  private void afterCommit(Batch b, long startNanos) {
    metrics.commit(System.nanoTime() - startNanos, b.results().size());
    for (ItemResult r : b.results()) {
      r.outcome().ifPresent(o -> metrics.outcome(r.type(), o));
      if (r.retry().isPresent() && !r.isDeferral()) metrics.retry(r.type());
    }
  }

  private void onFailure(Batch b, Throwable e) {
    if (e instanceof ProducerFencedException
        || e instanceof InvalidProducerEpochException
        || e instanceof FencedInstanceIdException
        || e instanceof OutOfOrderSequenceException
        || e instanceof UnsupportedVersionException
        || e instanceof AuthorizationException) {
      throw new IllegalStateException(
          "cannot commit any more ("
              + e.getClass().getSimpleName()
              + "): another worker with ID '"
              + settings.workerId()
              + "' may have taken over",
          e);
    }
    if (e instanceof KafkaException) {
      log.warn(
          "commit of {} records failed, rewinding to the last commit: {}",
          b.results().size(),
          e.toString());
      abortAndRewind();
      return;
    }
    if (e instanceof RuntimeException re) throw re;
    if (e instanceof Error err) throw err;
    throw new IllegalStateException(e);
  }

  /**
   * After a failed transaction: forget uncommitted work and read again from the committed offsets.
   */
  private void abortAndRewind() {
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      throw new IllegalStateException("could not abort a failed transaction: " + e, e);
    }
    partitions.rewind(consumer);
    lanes.clear();
  }

  /** Stops the committer thread (a transaction still in flight is abandoned and never commits). */
  @Override
  public void close() {
    committer.shutdownNow();
  }
}
