package io.itemfleet.worker;

import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.ItemResolved;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.schemas.TaskMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
 * The worker's owner thread: the only one to touch the consumer, and the transactional producer
 * whenever no transaction is in flight on the committer thread (which owns it meanwhile). It polls,
 * hands attempts to lanes through the ready queue (starting lanes as needed), collects their
 * results, and every commit interval writes the outputs of each partition's contiguous finished
 * prefix, with those offsets, in one Kafka transaction. See docs/CONCURRENCY.md.
 */
final class PollLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

  /** How often the loop looks for attempts past their deadline (each look walks every lane). */
  private static final long DEADLINE_CHECK_NANOS = 10_000_000;

  /** Retry records due later than this are held with their partition paused. */
  static final Duration MEMORY_HORIZON = Duration.ofSeconds(60);

  private final WorkerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final ItemExecutor executor;
  private final Lanes lanes;

  /** Idempotency, cache and limits in Redis; null when the worker runs without Redis. */
  private final RedisGate gate;

  private final WorkerMetrics metrics;

  /** An error raised on another thread that stops this loop at once, without draining. */
  private final FatalSignal fatal;

  private final Clock clock;
  private final MessageCodec codec;

  /** Current assignment, by partition. */
  private final Map<TopicPartition, PartitionState> states = new HashMap<>();

  /** Retry attempts waiting for their notBefore, earliest first. */
  private final PriorityQueue<Held> delayed =
      new PriorityQueue<>((a, b) -> Long.compare(a.dueMillis, b.dueMillis));

  /** The retry topics; their records are decoded on this thread to learn notBefore. */
  private final Set<String> retryTopics;

  /** Assignment epochs handed out so far. */
  private long epochs;

  /** Records fetched and not yet committed, over all partitions. */
  private int held;

  /** Polls that returned records, for benchmarks (Redis round trips per poll batch). */
  final AtomicLong batches = new AtomicLong();

  /** Consumer lag summed over the assignment, refreshed each commit. */
  private final AtomicLong lag = new AtomicLong();

  /** Runs transactions so that the poll thread need not wait for their round trips. */
  private final ExecutorService committer;

  /** The transaction in flight on the committer thread, or null. */
  private Pending pending;

  /** Set once the clients are being closed (after the final commit, or after a fatal error). */
  private boolean closing;

  /** Set by {@link #stop()}; the loop then drains and exits. */
  private volatile boolean stopping;

  /** Counted down when the loop has closed its clients. */
  final CountDownLatch terminated = new CountDownLatch(1);

  /** Why the loop ended, when it was not asked to. */
  volatile Throwable failure;

  /** Starting, running, draining, stopped or failed; moved by this thread only. */
  final Lifecycle lifecycle = new Lifecycle();

  /**
   * A retry attempt held in memory until {@code dueMillis}: its notBefore, or, when that is later,
   * the moment its tier's delay has passed since it was written ({@code hop}: it is then sent on to
   * the tier that fits what is left, unless that is within the in-memory horizon).
   */
  private record Held(long dueMillis, Attempt attempt, boolean far, boolean hop) {}

  /** Each retry topic's tier delay. */
  private final Map<String, Long> tierMillis = new HashMap<>();

  PollLoop(
      WorkerSettings settings,
      Consumer<byte[], byte[]> consumer,
      Producer<String, byte[]> producer,
      ItemExecutor executor,
      Lanes lanes,
      RedisGate gate,
      WorkerMetrics metrics,
      FatalSignal fatal,
      Clock clock) {
    this.settings = settings;
    this.fatal = fatal;
    this.gate = gate;
    this.consumer = consumer;
    this.producer = producer;
    this.executor = executor;
    this.lanes = lanes;
    this.metrics = metrics;
    this.clock = clock;
    this.codec = new MessageCodec(settings.codecLimits());
    this.retryTopics = Set.copyOf(settings.topics().retryTopics());
    for (Duration tier : FleetTopics.RETRY_TIERS) {
      tierMillis.put(settings.topics().retry(tier), tier.toMillis());
    }
    metrics.gauges(lanes::busy, lag::get, lanes::overdue);
    this.committer =
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("fleet-commit-" + settings.workerId()).unstarted(r));
  }

  /**
   * Asks the loop to drain and stop. No {@code consumer.wakeup()}: a poll waits at most 10 ms, and
   * a wakeup that arrives while the loop is outside {@code poll} would throw from the drain's own
   * polls and skip the final commit.
   */
  void stop() {
    stopping = true;
  }

  @Override
  public void run() {
    try {
      producer.initTransactions();
      consumer.subscribe(settings.topics().workTopics(), new Listener());
      lifecycle.moveTo(Lifecycle.State.RUNNING);
      log.info(
          "worker {} polling {} with concurrency {}",
          settings.workerId(),
          settings.topics().workTopics(),
          settings.concurrency());
      long nextCommit = System.nanoTime() + settings.commitInterval().toNanos();
      long nextDeadlineCheck = 0;
      while (!stopping) {
        fatal.rethrowIfRaised();
        ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout());
        intake(records);
        releaseDue();
        refill();
        long now = System.nanoTime();
        if (now >= nextDeadlineCheck) { // time-outs are seconds long: ~100 looks a second suffice
          lanes.checkDeadlines(now);
          nextDeadlineCheck = now + DEADLINE_CHECK_NANOS;
        }
        // Commit on the interval; sooner when finished work piles up (held records are capped, so
        // waiting would cap throughput at maxHeld per interval) or when everything fetched is done
        // (nothing to wait for). The transaction runs on the committer thread while this loop keeps
        // the lanes fed.
        settle(false);
        int finished = lanes.finishedCount();
        if (pending == null
            && (System.nanoTime() >= nextCommit
                || finished >= settings.maxHeld() / 4
                || (finished > 0 && finished == held))) {
          startCommit();
          updateLag();
          nextCommit = System.nanoTime() + settings.commitInterval().toNanos();
        }
        adjustPauses();
      }
      drain();
    } catch (Throwable t) {
      failure = t;
      lifecycle.fail();
      log.error("worker {} stopped: {}", settings.workerId(), t.toString(), t);
    } finally {
      lanes.stop();
      if (gate != null) gate.close();
      committer.shutdownNow();
      closing = true; // the consumer's close revokes partitions: nothing may commit then
      closeQuietly();
      if (lifecycle.get() == Lifecycle.State.DRAINING) lifecycle.moveTo(Lifecycle.State.STOPPED);
      else lifecycle.fail(); // ended without a clean drain
      terminated.countDown();
    }
  }

  private Duration pollTimeout() {
    if (lanes.queued() < settings.concurrency()) {
      return Duration.ofMillis(1); // lanes may soon be hungry: come back at once
    }
    return Duration.ofMillis(10); // a full round of work is queued: no need to spin
  }

  private void intake(ConsumerRecords<byte[], byte[]> records) {
    if (records.isEmpty()) return;
    batches.incrementAndGet();
    long now = clock.millis();
    for (TopicPartition tp : records.partitions()) {
      PartitionState s = states.get(tp);
      if (s == null) {
        continue; // not ours any more; the new owner reads it from the committed offset
      }
      boolean retryTopic = retryTopics.contains(tp.topic());
      for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
        PartitionState.Slot slot = new PartitionState.Slot(r);
        s.window.add(slot);
        held++;
        TaskMessage task = null;
        if (retryTopic) {
          Decoded<TaskMessage> d = executor.decode(slot);
          task = d.asOptional().orElse(null);
        }
        Attempt a = new Attempt(s, slot, task);
        long due = task == null ? 0 : task.notBefore().map(PollLoop::millis).orElse(0L);
        boolean fits = r.value() == null || r.value().length <= ItemExecutor.MAX_RETRY_SOURCE_BYTES;
        if (due > now && !fits) {
          s.waiting.add(a); // a foreign record too large to pass on: run it now, do not hold it
        } else if (due > now) {
          // Held until its tier's delay has passed since it was written, at most: every record of
          // a tier partition is then released in the order written, so one due much later never
          // holds back the due ones behind it.
          long written = r.timestamp() < 0 ? now : Math.min(r.timestamp(), now);
          long release = Math.min(due, written + tierMillis.getOrDefault(tp.topic(), 0L));
          hold(new Held(Math.max(release, now), a, false, release < due), now);
        } else {
          s.waiting.add(a);
        }
      }
    }
  }

  /** Holds a retry attempt until {@code h.dueMillis}; one due past the horizon pauses fetching. */
  private void hold(Held h, long now) {
    boolean far = h.dueMillis - now > MEMORY_HORIZON.toMillis();
    Held held = far == h.far ? h : new Held(h.dueMillis, h.attempt, far, h.hop);
    delayed.add(held);
    held.attempt.state.delayed++;
    if (far) held.attempt.state.farDelayed++;
  }

  private void releaseDue() {
    long now = clock.millis();
    while (!delayed.isEmpty() && delayed.peek().dueMillis <= now) {
      Held h = delayed.poll();
      PartitionState s = h.attempt.state;
      if (s.revoked) continue;
      s.delayed--;
      if (h.far) s.farDelayed--;
      if (h.hop) {
        hop(h.attempt, now);
      } else {
        s.waiting.addFirst(h.attempt);
      }
    }
  }

  /**
   * A retry record whose tier delay has passed but which is not due yet: within the horizon it is
   * held on in memory; further out it is sent on to the tier for what is left (its notBefore capped
   * at {@link TaskSettings#MAX_DELAY} from now), committed with its offset like any output.
   */
  private void hop(Attempt a, long now) {
    TaskMessage t = a.decoded;
    long due = millis(t.notBefore().orElseThrow());
    if (due - now <= MEMORY_HORIZON.toMillis()) {
      hold(new Held(due, a, false, false), now);
      return;
    }
    long capped = Math.min(due, now + TaskSettings.MAX_DELAY.toMillis());
    TaskMessage same = capped == due ? t : t.withNotBefore(java.time.Instant.ofEpochMilli(capped));
    long unknownSince = ItemExecutor.unknownSince(a.slot.record).orElse(0L); // carried along
    lanes.complete(a, ItemResult.deferred(same, java.time.Instant.ofEpochMilli(now), unknownSince));
  }

  /**
   * Epoch milliseconds of {@code t}, saturated: a notBefore in the year 300,000,000 is no crash.
   */
  static long millis(java.time.Instant t) {
    try {
      return t.toEpochMilli();
    } catch (ArithmeticException e) {
      return t.isBefore(java.time.Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * Moves waiting attempts to the ready queue (through the Redis gate when there is one),
   * round-robin over partitions; starts lanes.
   */
  private void refill() {
    if (gate != null) takeGateVerdicts();
    int room = lanes.room() - (gate == null ? 0 : gate.undecided());
    List<PartitionState> busy = new ArrayList<>();
    for (PartitionState s : states.values()) {
      if (!s.waiting.isEmpty()) busy.add(s);
    }
    while (room > 0 && !busy.isEmpty()) {
      for (int i = busy.size() - 1; i >= 0 && room > 0; i--) {
        Attempt a = busy.get(i).waiting.pollFirst();
        if (a == null) {
          busy.remove(i);
        } else {
          if (gate != null) {
            gate.submit(a);
          } else {
            lanes.offer(a);
          }
          room--;
        }
      }
    }
    lanes.startLanes();
  }

  /** Cleared attempts go to the lanes; those told to wait are held until due. */
  private void takeGateVerdicts() {
    for (Attempt a = gate.takeCleared(); a != null; a = gate.takeCleared()) {
      lanes.offer(a); // a lane skips (and releases) it if its partition was revoked meanwhile
    }
    long now = clock.millis();
    for (RedisGate.Waiting w = gate.takeWaiting(); w != null; w = gate.takeWaiting()) {
      PartitionState s = w.attempt().state;
      if (s.revoked) continue;
      hold(new Held(now + w.millis(), w.attempt(), false, false), now);
    }
  }

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

  /**
   * Takes every partition's contiguous finished prefix out of its window; null when none finished.
   */
  private Batch takeFinished() {
    int finished = lanes.takeFinishedCount();
    List<ItemResult> results = new ArrayList<>(finished + finished / 4 + 16);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    Set<TaskMessage> replayRetries = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    List<ItemResolved> resolved = new ArrayList<>();
    for (PartitionState s : states.values()) {
      long last = -1;
      while (!s.window.isEmpty() && s.window.peekFirst().done()) {
        PartitionState.Slot slot = s.window.pollFirst();
        held--;
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

  /**
   * Starts committing the finished prefixes on the committer thread, so lanes keep being fed while
   * the transaction round trips run. At most one transaction is in flight.
   */
  private void startCommit() {
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
  private void settle(boolean wait) {
    Pending p = pending;
    if (p == null || (!wait && !p.done().isDone())) return;
    pending = null;
    try {
      p.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a commit was in flight", e);
    } catch (ExecutionException e) {
      onCommitFailure(p.batch(), e.getCause());
      return;
    }
    afterCommit(p.batch(), p.startNanos());
  }

  /** Commits the finished prefix of every partition with its outputs now, on this thread. */
  void commit() {
    settle(true);
    Batch b = takeFinished();
    if (b == null) return;
    long t0 = System.nanoTime();
    try {
      write(b, consumer.groupMetadata());
    } catch (RuntimeException e) {
      onCommitFailure(b, e);
      return;
    }
    afterCommit(b, t0);
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
        TaskMessage next = r.retry().get();
        long delay = millis(next.notBefore().orElseThrow()) - now;
        ProducerRecord<String, byte[]> retry =
            new ProducerRecord<>(topics.retry(tierFor(delay)), next.item(), codec.encodeTask(next));
        if (b.replayRetries().contains(next)) {
          retry.headers().add(FleetHeaders.REPLAY, new byte[] {'1'});
        }
        if (r.unknownTypeSince() > 0) {
          retry
              .headers()
              .add(
                  FleetHeaders.UNKNOWN_SINCE,
                  Long.toString(r.unknownTypeSince())
                      .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        producer.send(retry);
      }
    }
    for (ItemResolved e : b.resolved()) {
      producer.send(new ProducerRecord<>(topics.jobs(), e.job(), codec.encodeJobEvent(e)));
    }
    for (StatsDelta d : stats.drain()) {
      producer.send(new ProducerRecord<>(topics.stats(), d.job(), codec.encodeStats(d)));
    }
    producer.sendOffsetsToTransaction(b.offsets(), group);
    producer.commitTransaction();
    return null;
  }

  private void afterCommit(Batch b, long startNanos) {
    metrics.commit(System.nanoTime() - startNanos, b.results().size());
    for (ItemResult r : b.results()) {
      r.outcome().ifPresent(o -> metrics.outcome(r.type(), o));
      if (r.retry().isPresent() && !r.isDeferral()) metrics.retry(r.type());
    }
  }

  private void onCommitFailure(Batch b, Throwable e) {
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

  /** The retry topic tier for a delay: the largest tier not above it, or the smallest. */
  static Duration tierFor(long delayMillis) {
    Duration tier = FleetTopics.RETRY_TIERS.get(0);
    for (Duration t : FleetTopics.RETRY_TIERS) {
      if (t.toMillis() <= delayMillis) tier = t;
    }
    return tier;
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
    Set<TopicPartition> tps = new HashSet<>(states.keySet());
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(tps);
    for (TopicPartition tp : tps) {
      forget(tp);
      states.put(tp, new PartitionState(tp, ++epochs));
      OffsetAndMetadata o = committed.get(tp);
      if (o != null) {
        consumer.seek(tp, o.offset());
      } else {
        consumer.seekToBeginning(List.of(tp));
      }
    }
    lanes.clear();
  }

  private void forget(TopicPartition tp) {
    PartitionState s = states.remove(tp);
    if (s != null) {
      s.revoked = true;
      held -= s.window.size();
    }
  }

  private void adjustPauses() {
    // While Redis is down nothing may run unchecked: fetch nothing more until it is back.
    boolean full = held >= settings.maxHeld() || (gate != null && !gate.healthy());
    int prefetch = Math.max(4096, 2 * settings.concurrency() / Math.max(1, states.size()));
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    for (PartitionState s : states.values()) {
      boolean shouldPause =
          full || s.waiting.size() >= prefetch || s.farDelayed > 0 || s.delayed >= prefetch;
      if (shouldPause && !s.paused) pause.add(s.partition);
      if (!shouldPause && s.paused) resume.add(s.partition);
      s.paused = shouldPause;
    }
    if (!pause.isEmpty()) consumer.pause(pause);
    if (!resume.isEmpty()) consumer.resume(resume);
  }

  private void updateLag() {
    long total = 0;
    for (TopicPartition tp : states.keySet()) {
      total += consumer.currentLag(tp).orElse(0);
    }
    lag.set(total);
  }

  /** After SIGTERM: stop fetching, let running attempts finish up to the drain timeout, commit. */
  private void drain() {
    lifecycle.moveTo(Lifecycle.State.DRAINING);
    consumer.pause(consumer.assignment());
    lanes.stop(); // then nothing more is taken; what is still queued never started
    lanes.awaitNoneTaking();
    lanes.clear();
    long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
    while ((lanes.busy() > 0 || (gate != null && gate.finishing() > 0))
        && System.nanoTime() < deadline) {
      consumer.poll(Duration.ofMillis(20)); // stays in the group; partitions are paused
      lanes.checkDeadlines(System.nanoTime());
    }
    if (lanes.busy() > 0) {
      log.warn(
          "drain timed out after {} ms (inFlight={}, partitions={})",
          settings.drainTimeout().toMillis(),
          lanes.busy(),
          states.keySet());
    }
    commit();
    log.info("worker {} drained and committed", settings.workerId());
  }

  private void closeQuietly() {
    try {
      producer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.warn("closing the producer: {}", e.toString());
    }
    try {
      consumer.close();
    } catch (RuntimeException e) {
      log.warn("closing the consumer: {}", e.toString());
    }
  }

  /** Rebalance callbacks; they run inside poll(), on this thread. */
  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) return;
      if (!closing) commit(); // drained and committed already, or stopped by a fatal error
      partitions.forEach(PollLoop.this::forget);
      log.info("revoked {}", partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        states.put(tp, new PartitionState(tp, ++epochs));
      }
      if (!partitions.isEmpty()) log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      settle(true); // the producer is used by one thread at a time
      partitions.forEach(PollLoop.this::forget);
      log.warn(
          "lost {} without a chance to commit; their uncommitted work will run again elsewhere",
          partitions);
    }
  }
}
