package io.itemfleet.worker;

import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.WorkerSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's owner thread: the only one to touch the consumer, and the transactional producer
 * whenever no transaction is in flight on the committer thread (which owns it meanwhile; see {@link
 * CommitPipeline}). It polls, puts fetched records in their partition's window ({@link
 * PartitionTable}), holds retries not yet due ({@link DelayedRetries}), asks the {@link Admission}
 * whether each attempt may run, hands those cleared to the lanes, and every commit interval starts
 * a transaction for what finished. See docs/CONCURRENCY.md and docs/ARCHITECTURE.md.
 */
final class PollLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

  /** How often the loop looks for attempts past their deadline (each look walks every lane). */
  private static final long DEADLINE_CHECK_NANOS = 10_000_000;

  private final WorkerSettings settings;
  private final Consumer<byte[], byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final ItemExecutor executor;
  private final Lanes lanes;

  /** Decides whether an attempt runs: directly, or after a check in Redis. */
  private final Admission admission;

  /** An error raised on another thread that stops this loop at once, without draining. */
  private final FatalSignal fatal;

  private final Clock clock;

  /** Current assignment, by partition. */
  private final PartitionTable partitions = new PartitionTable();

  /** Retry attempts waiting until they are due. */
  private final DelayedRetries delayed;

  /** Transactions of finished work. */
  private final CommitPipeline commits;

  /** The retry topics; their records are decoded on this thread to learn notBefore. */
  private final Set<String> retryTopics;

  /** Polls that returned records, for benchmarks (Redis round trips per poll batch). */
  final AtomicLong batches = new AtomicLong();

  /** Consumer lag summed over the assignment, refreshed each commit. */
  private final AtomicLong lag = new AtomicLong();

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

  PollLoop(
      WorkerSettings settings,
      Consumer<byte[], byte[]> consumer,
      Producer<String, byte[]> producer,
      ItemExecutor executor,
      Lanes lanes,
      Admission admission,
      WorkerMetrics metrics,
      FatalSignal fatal,
      Clock clock) {
    this.settings = settings;
    this.fatal = fatal;
    this.admission = admission;
    this.consumer = consumer;
    this.producer = producer;
    this.executor = executor;
    this.lanes = lanes;
    this.clock = clock;
    this.retryTopics = Set.copyOf(settings.topics().retryTopics());
    this.delayed = new DelayedRetries(settings.topics(), lanes, clock);
    this.commits =
        new CommitPipeline(
            settings,
            consumer,
            producer,
            partitions,
            lanes,
            executor,
            metrics,
            new MessageCodec(settings.codecLimits()),
            clock);
    metrics.gauges(lanes::busy, lag::get, lanes::overdue);
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
        delayed.releaseDue();
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
        commits.settle(false);
        int finished = lanes.finishedCount();
        if (commits.idle()
            && (System.nanoTime() >= nextCommit
                || finished >= settings.maxHeld() / 4
                || (finished > 0 && finished == partitions.held()))) {
          commits.start();
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
      admission.close();
      commits.close();
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
      PartitionState s = partitions.get(tp);
      if (s == null) {
        continue; // not ours any more; the new owner reads it from the committed offset
      }
      boolean retryTopic = retryTopics.contains(tp.topic());
      for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
        PartitionState.Slot slot = new PartitionState.Slot(r);
        partitions.fetched(s, slot);
        if (retryTopic) {
          Decoded<TaskMessage> d = executor.decode(slot);
          TaskMessage task = d.asOptional().orElse(null);
          long due = task == null ? 0 : task.notBefore().map(DelayedRetries::millis).orElse(0L);
          delayed.intake(new Attempt(s, slot, task), r, due, now);
        } else {
          s.waiting.add(new Attempt(s, slot, null));
        }
      }
    }
  }

  /**
   * Moves waiting attempts to the admission (which hands those cleared to the ready queue),
   * round-robin over partitions; starts lanes.
   */
  private void refill() {
    admission.takeVerdicts(lanes, delayed);
    int room = lanes.room() - admission.undecided();
    List<PartitionState> busy = new ArrayList<>();
    for (PartitionState s : partitions.all()) {
      if (!s.waiting.isEmpty()) busy.add(s);
    }
    while (room > 0 && !busy.isEmpty()) {
      for (int i = busy.size() - 1; i >= 0 && room > 0; i--) {
        Attempt a = busy.get(i).waiting.pollFirst();
        if (a == null) {
          busy.remove(i);
        } else {
          admission.submit(a);
          room--;
        }
      }
    }
    lanes.startLanes();
  }

  /** Commits the finished prefix of every partition with its outputs now, on this thread. */
  void commit() {
    commits.commitNow();
  }

  private void adjustPauses() {
    // While Redis is down nothing may run unchecked: fetch nothing more until it is back.
    boolean full = partitions.held() >= settings.maxHeld() || !admission.healthy();
    int prefetch = Math.max(4096, 2 * settings.concurrency() / Math.max(1, partitions.size()));
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    for (PartitionState s : partitions.all()) {
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
    for (TopicPartition tp : partitions.partitions()) {
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
    while ((lanes.busy() > 0 || admission.finishing() > 0) && System.nanoTime() < deadline) {
      consumer.poll(Duration.ofMillis(20)); // stays in the group; partitions are paused
      lanes.checkDeadlines(System.nanoTime());
    }
    if (lanes.busy() > 0) {
      log.warn(
          "drain timed out after {} ms (inFlight={}, partitions={})",
          settings.drainTimeout().toMillis(),
          lanes.busy(),
          partitions.partitions());
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
      partitions.forEach(PollLoop.this.partitions::forget);
      log.info("revoked {}", partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      partitions.forEach(PollLoop.this.partitions::assign);
      if (!partitions.isEmpty()) log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      commits.settle(true); // the producer is used by one thread at a time
      partitions.forEach(PollLoop.this.partitions::forget);
      log.warn(
          "lost {} without a chance to commit; their uncommitted work will run again elsewhere",
          partitions);
    }
  }
}
