package io.itemfleet.alerts;

import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code <prefix>.failures} ({@code read_committed}, its own consumer group) and posts
 * deduplicated alerts to a webhook, at least once: the first failure of a (job, fingerprint) and
 * every POISON record are posted before the next poll; later failures are summarised once per
 * window; offsets are committed only after every alert for the records before them got a 2xx answer
 * (at the window's end, on a rebalance and on stop). A webhook outage is retried with backoff (1 s
 * doubling to 30 s) while every partition is paused and the loop keeps polling, so it stays in its
 * group and nothing is skipped. A crash replays from the last commit: alerts since then may come
 * again (at most one window's worth), none is lost. A record that is no failure event is skipped
 * with a WARN and counted. One thread, {@code fleet-alerts}, owns the consumer.
 */
public final class AlertsLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(AlertsLoop.class);

  /** How long a stop waits for the webhook before giving up (uncommitted work then replays). */
  static final Duration STOP_DELIVERY_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The longest a stop takes: the post under way (at most {@link Webhook#DEADLINE}), the wait for a
   * failing webhook, one more post, the commit and the consumer's close. The command waits this
   * long, and a container's grace period must be longer.
   */
  public static final Duration STOP_BUDGET =
      Webhook.DEADLINE.multipliedBy(2).plus(STOP_DELIVERY_TIMEOUT).plusSeconds(5);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final FleetTopics topics;
  private final Duration window;
  private final Webhook webhook;
  private final AlertsMetrics metrics;
  private final MessageCodec codec = new MessageCodec();
  private final AlertDeduplicator dedup = new AlertDeduplicator();

  /**
   * Alerts made and not yet delivered, oldest first. Offsets are committed only while it is empty:
   * then every alert for the records read so far got a 2xx answer.
   */
  private final List<Alert> outbox = new ArrayList<>();

  /** Most alerts in one request (a receiver's body limit must not wedge delivery). */
  static final int MAX_PER_REQUEST = 50;

  private volatile boolean stopping;

  /** Set by {@link #abandon()}: stop as a crash would, delivering and committing nothing more. */
  private volatile boolean abandoned;

  /**
   * When a stop stops waiting for the webhook (System.nanoTime); written before {@code stopping}.
   */
  private volatile long stopDeadline;

  /**
   * Set before the consumer is closed: its close revokes partitions, and nothing may commit then.
   */
  private boolean closing;

  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile Throwable failure;

  /**
   * @param kafka client settings (bootstrap, security)
   * @param group the consumer group, its own: a second {@code fleet alerts} in it shares the work
   * @param fromBeginning where a new group starts: the topic's beginning, else its end
   */
  public AlertsLoop(
      Map<String, Object> kafka,
      FleetTopics topics,
      String group,
      boolean fromBeginning,
      Duration window,
      Webhook webhook,
      AlertsMetrics metrics) {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put("group.id", group);
    p.put("client.id", "fleet-alerts");
    p.put("enable.auto.commit", false);
    p.put("isolation.level", "read_committed");
    p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
    p.put("max.poll.records", 1000);
    this.consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topics = topics;
    this.window = window;
    this.webhook = webhook;
    this.metrics = metrics;
  }

  /** Starts the loop on its own thread. */
  public Thread start() {
    return Thread.ofPlatform().name("fleet-alerts").start(this);
  }

  @Override
  public void run() {
    try {
      consumer.subscribe(List.of(topics.failures()), new Listener());
      long nextFlush = System.nanoTime() + window.toNanos();
      while (!stopping) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> r : records) {
          outbox.addAll(read(r));
        }
        metrics.pending.set(dedup.pending());
        if (!deliver()) break;
        if (System.nanoTime() >= nextFlush) {
          flushAndCommit();
          nextFlush = System.nanoTime() + window.toNanos();
        }
      }
      flushAndCommit(); // what was read is summarised and committed before the stop
    } catch (WakeupException e) {
      // abandon(): stop at once
    } catch (Throwable t) {
      failure = t;
      log.error("fleet alerts stopped: {}", t.toString(), t);
    } finally {
      closing = true;
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        log.warn("closing the consumer: {}", e.toString());
      }
      terminated.countDown();
    }
  }

  /** The alerts a record calls for now; a record that is no failure event is skipped. */
  private List<Alert> read(ConsumerRecord<byte[], byte[]> r) {
    metrics.events.increment();
    Decoded<FailureEvent> d = codec.decodeFailure(r.value() == null ? new byte[0] : r.value());
    if (d instanceof Decoded.Invalid<FailureEvent> bad) {
      metrics.malformed.increment();
      log.warn(
          "skipping a record at {}-{}@{} that is no failure event: {} {}",
          r.topic(),
          r.partition(),
          r.offset(),
          bad.error().field(),
          bad.error().cause());
      return List.of();
    }
    return dedup.accept(d.orThrow());
  }

  /**
   * Posts the outbox, at most {@link #MAX_PER_REQUEST} alerts a request, retrying with backoff
   * until each got a 2xx answer; false only when stopping and the stop's patience ran out (the
   * outbox then stays, and nothing is committed).
   */
  private boolean deliver() throws InterruptedException {
    if (abandoned) throw new WakeupException();
    long backoff = 1_000;
    boolean warned = false;
    while (!outbox.isEmpty()) {
      if (postFirstChunk()) {
        if (warned) log.info("webhook {} answers again; delivering", webhook.where());
        warned = false;
        backoff = 1_000;
        continue;
      }
      if (!warned) {
        log.warn(
            "webhook delivery of {} alerts failed ({}); retrying with backoff, consumption paused,"
                + " nothing committed",
            outbox.size(),
            lastError);
        warned = true;
      }
      if (stopping && System.nanoTime() - stopDeadline > 0) {
        log.warn(
            "stopping with {} alerts undelivered: not committed, they are read again at the next"
                + " start",
            outbox.size());
        return false;
      }
      waitPolling(backoff);
      backoff = Math.min(30_000, backoff * 2);
    }
    return true;
  }

  /** Why the last delivery failed, for the log. */
  private String lastError = "";

  /**
   * One request with the outbox's first alerts; true (and they leave the outbox) on a 2xx. When the
   * receiver refuses that body for good ({@link Webhook.DeliveryFailed#refusedForGood}), each alert
   * of it is sent alone (see {@link #postOneByOne}): before, the body was retried for ever, and no
   * later alert was ever delivered.
   */
  private boolean postFirstChunk() throws InterruptedException {
    List<Alert> chunk = outbox.subList(0, webhook.format().fits(outbox, MAX_PER_REQUEST));
    try {
      webhook.post(List.copyOf(chunk));
    } catch (Webhook.DeliveryFailed e) {
      failed(e);
      return e.refusedForGood() && postOneByOne(chunk.size());
    }
    delivered(List.copyOf(chunk));
    chunk.clear();
    return true;
  }

  /**
   * The outbox's first {@code n} alerts, each in a request of its own. Those refused alone for good
   * are dropped — logged whole and counted — but only once the receiver has taken some alert (in
   * this pass, or before since start): a receiver that refuses every body (a wrong {@code
   * --format}) is an outage, retried with {@code webhook_up} 0, and nothing is dropped.
   */
  private boolean postOneByOne(int n) throws InterruptedException {
    List<Alert> refused = new ArrayList<>();
    Webhook.DeliveryFailed why = null;
    for (Alert a : List.copyOf(outbox.subList(0, n))) {
      try {
        webhook.post(List.of(a));
      } catch (Webhook.DeliveryFailed e) {
        failed(e);
        if (!e.refusedForGood()) return false; // the rest stay, and are retried
        if (e.tooLarge()) {
          // Too large for the receiver, alone: no --format makes a body too large, so this is
          // the alert's own, dropped even before the receiver took any (else it held every
          // later alert back for ever).
          drop(a, e);
          continue;
        }
        refused.add(a);
        why = e;
        continue;
      }
      outbox.remove(a);
      delivered(List.of(a));
    }
    if (refused.isEmpty()) return true;
    if (!accepted) {
      lastError = why.getMessage() + ", to every alert so far (is --format the receiver's?)";
      return false;
    }
    for (Alert a : refused) drop(a, why);
    return true;
  }

  /** Set once the receiver took any alert: its refusals of single alerts are then theirs. */
  private boolean accepted;

  private void drop(Alert a, Webhook.DeliveryFailed e) {
    metrics.dropped.increment();
    log.error(
        "webhook {} refused this alert for good ({}): it is dropped, not retried: {}",
        webhook.where(),
        e.getMessage(),
        a.text());
    outbox.remove(a);
  }

  private void failed(Webhook.DeliveryFailed e) {
    metrics.webhookErrors.increment();
    metrics.webhookUp.set(0);
    lastError = e.getMessage();
  }

  /** {@code sent} got a 2xx answer: counted (the caller takes them out of the outbox). */
  private void delivered(List<Alert> sent) {
    accepted = true;
    metrics.webhookUp.set(1);
    Map<Alert.Kind, Integer> byKind = new EnumMap<>(Alert.Kind.class);
    sent.forEach(a -> byKind.merge(a.kind(), 1, Integer::sum));
    byKind.forEach(metrics::sent);
  }

  /** Waits, polling with every partition paused so that the group keeps this member. */
  private void waitPolling(long millis) {
    long end = System.nanoTime() + millis * 1_000_000;
    while (System.nanoTime() < end && !(stopping && System.nanoTime() - stopDeadline > 0)) {
      consumer.pause(consumer.assignment());
      ConsumerRecords<byte[], byte[]> got = consumer.poll(Duration.ofMillis(100));
      for (TopicPartition tp : got.partitions()) { // newly assigned: read them again later
        consumer.seek(tp, got.records(tp).get(0).offset());
      }
    }
    consumer.resume(consumer.assignment());
  }

  /** Adds the window's summaries to the outbox, delivers it, then commits what was read. */
  private void flushAndCommit() throws InterruptedException {
    if (abandoned) throw new WakeupException();
    outbox.addAll(dedup.flush());
    if (deliver()) {
      metrics.pending.set(dedup.pending());
      commit();
    }
  }

  /**
   * Commits the positions of every record read; only with an empty outbox. A failed commit (a
   * rebalance, a broker blip) is logged: the records are committed at the next window, or read
   * again (and alerted again) by the next owner.
   */
  private void commit() {
    if (!outbox.isEmpty()) return;
    try {
      consumer.commitSync(Duration.ofSeconds(30));
    } catch (WakeupException e) {
      throw e;
    } catch (RuntimeException e) {
      log.warn("commit failed ({}); retried at the next window", e.toString());
    }
  }

  /**
   * Asks the loop to deliver what it has (waiting at most 10 s for the webhook), commit and stop.
   */
  public void stop() {
    stopDeadline = System.nanoTime() + STOP_DELIVERY_TIMEOUT.toNanos();
    stopping = true;
  }

  public boolean awaitTermination(Duration d) throws InterruptedException {
    return terminated.await(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Why the loop ended on its own, or null. */
  public Throwable failure() {
    return failure;
  }

  /** Stops the loop at once without delivering or committing, as a crash would (for tests). */
  public void abandon() {
    abandoned = true;
    stopDeadline = System.nanoTime() - 1;
    stopping = true;
    consumer.wakeup();
  }

  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      // Not while closing (a crash or a stop already decided what to commit), and not while
      // alerts wait for the webhook (inside deliver's wait): then nothing is committed and the
      // next owner reads those records again. Otherwise everything read is delivered: commit it,
      // with the window's counts summarised now (one attempt; a callback must not block long).
      if (partitions.isEmpty() || closing || !outbox.isEmpty()) return;
      List<Alert> summaries = dedup.flush();
      if (!summaries.isEmpty()) {
        outbox.addAll(summaries);
        try {
          while (!outbox.isEmpty() && postFirstChunk()) {
            // delivered a chunk
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      commit(); // commits only when the outbox is empty; else the loop delivers it later
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) log.info("fleet alerts: reading {}", partitions);
      startingPointCommitted(partitions);
    }

    /**
     * Commits where a partition the group never committed starts (its end, or its beginning with
     * {@code --from-beginning}), before anything of it is read. Otherwise a new group commits
     * nothing until its first window is delivered, and a restart before that (a webhook failing
     * from the first start, a crash) starts at the end again: every failure in between would be
     * skipped, never alerted.
     */
    private void startingPointCommitted(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty() || closing) return;
      try {
        Map<TopicPartition, OffsetAndMetadata> committed =
            consumer.committed(new HashSet<>(partitions), Duration.ofSeconds(10));
        Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
        for (TopicPartition tp : partitions) {
          if (committed.get(tp) == null) {
            start.put(tp, new OffsetAndMetadata(consumer.position(tp, Duration.ofSeconds(10))));
          }
        }
        if (!start.isEmpty()) {
          consumer.commitSync(start, Duration.ofSeconds(10));
          Map<TopicPartition, Long> at = new HashMap<>();
          start.forEach((tp, o) -> at.put(tp, o.offset()));
          log.info("fleet alerts: partitions new to this group start at {}", at);
        }
      } catch (WakeupException e) {
        throw e;
      } catch (RuntimeException e) {
        log.warn(
            "could not commit where {} start ({}); until the first window is delivered, a restart"
                + " starts them at their end again",
            partitions,
            e.toString());
      }
    }
  }
}
