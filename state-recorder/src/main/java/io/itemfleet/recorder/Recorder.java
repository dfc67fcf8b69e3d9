package io.itemfleet.recorder;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobCompleted;
import io.itemfleet.schemas.MessageCodec;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state recorder: reads stats, failures and job manifests ({@code read_committed}) and writes
 * them to PostgreSQL, one transaction per poll together with its own offsets. Its position lives in
 * the database, not in Kafka (it also commits to Kafka, for lag monitoring only). While PostgreSQL
 * is unreachable it holds the batch, pauses consumption and retries with backoff; the batch is
 * applied once it is back, and nothing is lost or counted twice. Publishes a job-completed event on
 * {@code <prefix>.jobs} when a job's outcomes reach its expected total (at least once: a crash
 * between the database commit and the send publishes it again on restart).
 */
public final class Recorder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Recorder.class);

  private final RecorderSettings settings;
  private final HikariDataSource ds;
  private final Ledger ledger;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<String, byte[]> producer;
  private final MessageCodec codec = new MessageCodec();
  private final Thread thread;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile boolean stopping;

  /** Told of each job completion before it is marked published; set before the thread starts. */
  private java.util.function.Consumer<JobCompleted> completionListener = j -> {};

  private volatile boolean healthy;
  private volatile Throwable failure;
  private volatile long applied;
  private Instant nextRetention = Instant.now().plusSeconds(60);

  /**
   * Partitions assigned and not yet positioned from the ledger; paused until they are. Seeking is
   * done here, on the poll loop, not in the rebalance callback, which must not wait for PostgreSQL.
   * Recorder thread only.
   */
  private final Set<TopicPartition> needSeek = new HashSet<>();

  /**
   * While PostgreSQL is unreachable: every assigned partition stays paused. Recorder thread only.
   */
  private boolean outage;

  /** When to try the ledger's offsets again for {@link #needSeek} (System.nanoTime). */
  private long nextSeekTry;

  /** Backoff of those tries, ms. */
  private long seekBackoff = 250;

  private Recorder(RecorderSettings settings) {
    this.settings = settings;
    this.ds = LedgerDatabase.pool(settings.db(), 4, "fleet-recorder");
    this.ledger = new Ledger(ds);
    Map<String, Object> c = new HashMap<>();
    c.put("group.id", settings.groupId());
    c.put("client.id", "fleet-recorder");
    c.put("enable.auto.commit", false);
    c.put("isolation.level", "read_committed");
    c.put("auto.offset.reset", "earliest");
    c.put("max.poll.records", 5000);
    c.put("max.poll.interval.ms", 600_000);
    c.put("session.timeout.ms", 15_000); // a dead recorder's partitions move on within 15 s
    c.putAll(settings.kafka());
    this.consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> p = new HashMap<>();
    p.put("client.id", "fleet-recorder");
    p.put("enable.idempotence", true);
    p.put("acks", "all");
    p.putAll(settings.kafka());
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.thread = Thread.ofPlatform().name("fleet-recorder").unstarted(this::run);
  }

  /**
   * Creates the database if missing (and permitted), migrates it and starts recording. Waits, with
   * backoff, for PostgreSQL while it is unreachable at start; gives up at {@code startTimeout}.
   */
  public static Recorder start(RecorderSettings settings, Duration startTimeout)
      throws SQLException, InterruptedException {
    return start(settings, startTimeout, j -> {});
  }

  /**
   * As {@link #start(RecorderSettings, Duration)}, telling {@code onCompletion} of each job
   * completion it publishes — those left unpublished by a previous run too — on the recorder's
   * thread, after the event is sent and before it is marked published (so at least once). A
   * listener that throws is logged and does not hold the completion back. For side effects such as
   * expiring a job's done markers ({@code FLEET_MARKER_GRACE}).
   */
  public static Recorder start(
      RecorderSettings settings,
      Duration startTimeout,
      java.util.function.Consumer<JobCompleted> onCompletion)
      throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    long backoff = 250;
    while (true) {
      try {
        LedgerDatabase.ensureExists(settings.db());
        break;
      } catch (SQLException e) {
        if (!unreachable(e) || System.nanoTime() > deadline) throw e;
        log.warn(
            "PostgreSQL at {} unreachable ({}); retrying in {} ms",
            settings.db(),
            e.getMessage(),
            backoff);
        Thread.sleep(backoff);
        backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
      }
    }
    Recorder r = new Recorder(settings);
    try {
      LedgerDatabase.migrate(r.ds);
    } catch (RuntimeException e) {
      r.closeClients();
      throw e;
    }
    r.completionListener = onCompletion;
    r.thread.start();
    return r;
  }

  /** An SQL error that means "not reachable now", as opposed to a bad statement or permission. */
  /**
   * True when PostgreSQL aborted the batch's transaction for a conflict with another one (a
   * deadlock with the API's marking of rows replayed or resolved, a serialization failure): nothing
   * of it was written, and applying it again is all it takes. Before, such an error stopped the
   * recorder.
   */
  static boolean conflict(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if ("40P01".equals(x.getSQLState()) || "40001".equals(x.getSQLState())) return true;
    }
    return false;
  }

  static boolean unreachable(SQLException e) {
    String state = e.getSQLState();
    return state == null
        || state.startsWith("08") // connection exception
        || state.equals("57P01") // admin shutdown
        || state.equals("57P02") // crash shutdown
        || state.equals("57P03"); // cannot connect now (starting up)
  }

  public boolean isHealthy() {
    return healthy && terminated.getCount() > 0;
  }

  public boolean isRunning() {
    return terminated.getCount() > 0;
  }

  /** Records applied so far by this recorder. */
  public long applied() {
    return applied;
  }

  public java.util.Optional<Throwable> failure() {
    return java.util.Optional.ofNullable(failure);
  }

  public Ledger ledger() {
    return ledger;
  }

  private void run() {
    FleetTopics t = settings.topics();
    try {
      consumer.subscribe(List.of(t.stats(), t.failures(), t.jobs()), new Listener());
      log.info(
          "recorder reading {}, {}, {} into {}", t.stats(), t.failures(), t.jobs(), settings.db());
      healthy = true;
      publishCompletions();
      while (!stopping) {
        seekPending();
        Map<TopicPartition, Long> before = positions();
        ConsumerRecords<byte[], byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(500));
        } catch (WakeupException e) {
          continue;
        }
        if (!records.isEmpty()) {
          IngestBatch batch = IngestBatch.of(records, before, positions(), t, codec);
          if (!applyUntilDone(batch)) break;
          commitToKafka(batch);
          publishCompletions();
        }
        maybeSweep();
      }
    } catch (Throwable e) {
      failure = e;
      log.error("recorder stopped: {}", e.toString(), e);
    } finally {
      healthy = false;
      closeClients();
      terminated.countDown();
    }
  }

  /**
   * Applies a batch, retrying with backoff while PostgreSQL is unreachable. Consumption is paused
   * meanwhile (polling continues, so the recorder stays in its group). False when asked to stop
   * first; the batch is then simply not applied, and is read again on the next start.
   */
  private boolean applyUntilDone(IngestBatch batch) throws SQLException, InterruptedException {
    long backoff = 250;
    while (true) {
      try {
        Ledger.Applied a = ledger.apply(batch, settings.groupId());
        applied += a.records() - a.skipped();
        if (a.skipped() > 0) {
          log.info("skipped {} records the ledger already held", a.skipped());
        }
        if (outage) {
          outage = false;
          resumeSeeked();
          log.info("PostgreSQL is back; recording resumed");
        }
        healthy = true;
        return true;
      } catch (Ledger.GapException gap) {
        // Nothing was written, and the ledger stands behind what was read: it moved backwards (a
        // restore from a backup, an asynchronous replica promoted), so it may stand behind on any
        // partition, not only this batch's. Every assigned partition is read again from the
        // ledger's offsets (seekPending), and consumption paused for an outage resumes there.
        // Before, only the partitions with a gap were sought back: the dropped batch's records of
        // the others were lost, and after an outage consumption stayed paused for ever.
        log.warn("{}; reading every partition again from the ledger's offsets", gap.getMessage());
        Set<TopicPartition> all = new HashSet<>(consumer.assignment());
        needSeek.addAll(all);
        nextSeekTry = 0;
        consumer.pause(all);
        batch.nextOffsets.clear(); // nothing of it counts as read, not even for lag in Kafka
        if (outage) {
          outage = false;
          log.info("PostgreSQL is back; recording resumes from the ledger's offsets");
        }
        healthy = true;
        return true; // the batch is dropped whole; its records are fetched again
      } catch (SQLException e) {
        if (conflict(e)) {
          log.warn(
              "PostgreSQL aborted the batch for a conflict ({}); applying it again",
              e.getMessage());
          Thread.sleep(50);
          continue;
        }
        if (!unreachable(e)) throw e;
        healthy = false;
        outage = true;
        log.warn(
            "PostgreSQL unreachable ({}); holding {} records, consumption paused, retrying in {} ms",
            e.getMessage(),
            batch.records,
            backoff);
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
        while (System.nanoTime() < until) {
          if (stopping) return false;
          holdPoll(Math.min(200, backoff));
        }
        backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
      }
    }
  }

  /**
   * One poll while a batch is held, to stay in the group: every assigned partition is paused first
   * (including any assigned since), and anything a poll still returns is read again later (the
   * partition is sought back to it), never dropped.
   */
  private void holdPoll(long millis) {
    consumer.pause(consumer.assignment());
    ConsumerRecords<byte[], byte[]> late;
    try {
      late = consumer.poll(Duration.ofMillis(millis));
    } catch (WakeupException ignored) {
      return; // stop() wakes us; the caller checks the flag
    }
    for (TopicPartition tp : late.partitions()) {
      long first = late.records(tp).get(0).offset();
      consumer.seek(tp, first);
      consumer.pause(List.of(tp));
      log.info(
          "held back {} records of {} from offset {} until PostgreSQL is back",
          late.records(tp).size(),
          tp,
          first);
    }
  }

  /** Resumes every assigned partition that has its position from the ledger. */
  private void resumeSeeked() {
    Set<TopicPartition> ready = new HashSet<>(consumer.assignment());
    ready.removeAll(needSeek);
    consumer.resume(ready);
  }

  /**
   * Positions newly assigned partitions where the ledger says (the database is the truth), then
   * lets them fetch. While PostgreSQL cannot tell, they stay paused and this is tried again with
   * backoff; the poll loop (and the group membership) carries on meanwhile.
   */
  private void seekPending() {
    needSeek.retainAll(consumer.assignment());
    if (needSeek.isEmpty() || System.nanoTime() < nextSeekTry) return;
    try {
      Map<TopicPartition, Long> held = ledger.offsets(settings.groupId());
      for (TopicPartition tp : needSeek) {
        Long next = held.get(tp);
        if (next == null || next < 0) {
          consumer.seekToBeginning(List.of(tp));
        } else {
          consumer.seek(tp, next);
        }
      }
      log.info("positioned {} from the ledger", needSeek);
      List<TopicPartition> done = new ArrayList<>(needSeek);
      needSeek.clear();
      seekBackoff = 250;
      if (!outage) consumer.resume(done);
    } catch (SQLException e) {
      healthy = false;
      log.warn(
          "cannot read offsets from PostgreSQL ({}); {} stay paused, retrying in {} ms",
          e.getMessage(),
          needSeek,
          seekBackoff);
      nextSeekTry = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(seekBackoff);
      seekBackoff = Math.min(seekBackoff * 2, settings.maxBackoff().toMillis());
    }
  }

  /** The consumer's position of every assigned partition that has one from the ledger. */
  private Map<TopicPartition, Long> positions() {
    Map<TopicPartition, Long> out = new HashMap<>();
    for (TopicPartition tp : consumer.assignment()) {
      if (!needSeek.contains(tp)) out.put(tp, consumer.position(tp));
    }
    return out;
  }

  private void commitToKafka(IngestBatch batch) {
    Map<TopicPartition, OffsetAndMetadata> o = new HashMap<>();
    for (var e : batch.nextOffsets.entrySet()) {
      if (consumer.assignment().contains(e.getKey())) {
        o.put(e.getKey(), new OffsetAndMetadata(e.getValue()));
      }
    }
    if (!o.isEmpty()) consumer.commitAsync(o, null);
  }

  /**
   * Publishes the completions not yet published, and marks published only those Kafka took: a send
   * that failed (an expired delivery, a denied write, a record over the producer's limit) comes
   * back as a failed future, not an exception, and before, it was marked published all the same and
   * never delivered. The rest are tried again after the next batch.
   */
  private void publishCompletions() {
    try {
      List<JobCompleted> done = ledger.unpublishedCompletions();
      if (done.isEmpty()) return;
      List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>(done.size());
      for (JobCompleted j : done) {
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    settings.topics().jobs(),
                    io.itemfleet.schemas.JobEventKeys.completed(j.job()),
                    codec.encodeJobEvent(j))));
      }
      producer.flush();
      List<JobCompleted> published = new java.util.ArrayList<>(done.size());
      for (int i = 0; i < done.size(); i++) {
        JobCompleted j = done.get(i);
        try {
          sent.get(i).get(); // done after flush()
          published.add(j);
          log.info(
              "job {} completed: {} outcomes of {} expected ({} failed)",
              j.job(),
              j.counts().total(),
              j.total(),
              j.counts().failed());
        } catch (java.util.concurrent.ExecutionException e) {
          log.warn(
              "job {} completed, but Kafka refused its completion event ({}); it is sent again"
                  + " after the next batch",
              j.job(),
              e.getCause().toString());
        }
      }
      // Before marking them published: a crash in between tells the listener again, never not at
      // all.
      for (JobCompleted j : published) {
        try {
          completionListener.accept(j);
        } catch (RuntimeException e) {
          log.warn(
              "job {} completed, but its completion listener failed: {}", j.job(), e.toString());
        }
      }
      if (!published.isEmpty()) ledger.markPublished(published);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException | RuntimeException e) {
      log.warn("could not publish job completions yet: {}", e.toString());
    }
  }

  private void maybeSweep() {
    if (settings.retention().isZero() || Instant.now().isBefore(nextRetention)) return;
    nextRetention = Instant.now().plus(settings.retentionEvery());
    try {
      Instant cutoff = Instant.now().minus(settings.retention());
      long n = ledger.deleteOlderThan(cutoff, 5000);
      if (n > 0) log.info("retention: deleted {} rows older than {}", n, cutoff);
    } catch (SQLException e) {
      log.warn("retention sweep failed, trying again later: {}", e.toString());
    }
  }

  /** Stops after the batch in hand; returns when the clients are closed. */
  @Override
  public void close() {
    stopping = true;
    consumer.wakeup();
    try {
      if (!terminated.await(30, TimeUnit.SECONDS)) thread.interrupt();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void closeClients() {
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
    ds.close();
  }

  /**
   * Rebalance callbacks (inside poll, on the recorder thread). They never wait for PostgreSQL: a
   * new partition is paused and positioned from the ledger by the poll loop ({@link
   * #seekPending()}).
   */
  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) return;
      needSeek.addAll(partitions);
      nextSeekTry = 0;
      consumer.pause(partitions);
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      // Nothing to flush: every applied batch is already in the database with its offsets.
      needSeek.removeAll(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      needSeek.removeAll(partitions);
    }
  }
}
