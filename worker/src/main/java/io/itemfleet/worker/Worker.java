package io.itemfleet.worker;

import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.WorkerSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One worker process's engine: a consumer group member that runs items with steady concurrency and
 * commits outcomes exactly once. {@link #start} returns at once; {@link #close} drains and stops.
 *
 * <p>Shutdown order: stop polling, pause partitions, let running attempts finish (up to the drain
 * timeout), commit the finished prefix with its outputs, close producer, then consumer.
 */
public final class Worker implements AutoCloseable {
  /** The owner loop. */
  private final PollLoop loop;

  /** The thread that runs it. */
  private final Thread thread;

  /** How long close() waits. */
  private final Duration drainTimeout;

  /** Direct, or the Redis gate. */
  private final Admission admission;

  /** Checkpoint store, or null without Redis. */
  private final Checkpoints checkpoints;

  private Worker(
      PollLoop loop,
      Thread thread,
      Duration drainTimeout,
      Admission admission,
      Checkpoints checkpoints,
      CarrierWatch watch) {
    this.loop = loop;
    this.thread = thread;
    this.drainTimeout = drainTimeout;
    this.admission = admission;
    this.checkpoints = checkpoints;
    this.watch = watch;
  }

  /** Whether lanes can run at all. */
  private final CarrierWatch watch;

  public static Worker start(
      WorkerSettings settings,
      FleetConfig config,
      HandlerRegistry handlers,
      WorkerMetrics metrics) {
    if (settings.redis().isPresent()) config.checkIdempotencyTtls();
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            consumerProperties(settings), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            producerProperties(settings), new StringSerializer(), new ByteArraySerializer());
    Checkpoints checkpoints = settings.redis().map(Checkpoints::new).orElse(null);
    ItemExecutor executor =
        new ItemExecutor(settings, config, handlers, Clock.systemUTC(), checkpoints);
    Admission admission =
        settings
            .redis()
            .<Admission>map(
                url ->
                    new RedisGate(
                        url,
                        settings.topics().prefix(),
                        settings.workerId(),
                        settings.leaseTtl(),
                        settings.markerLayout(),
                        settings.redisReplicasAck(),
                        settings.maxCrashes(),
                        config,
                        executor,
                        Clock.systemUTC()))
            .orElseGet(DirectAdmission::new);
    FatalSignal fatal = new FatalSignal();
    Lanes lanes = new Lanes(settings.concurrency(), executor, metrics, admission, fatal);
    try {
      admission.start(lanes, fatal);
    } catch (RuntimeException e) {
      consumer.close();
      producer.close();
      if (checkpoints != null) checkpoints.close();
      throw e;
    }
    if (admission instanceof RedisGate gate) {
      metrics.redis(
          gate::roundTrips, gate::checked, () -> gate.healthy() ? 1 : 0, gate::lostLeases);
    }
    PollLoop loop =
        new PollLoop(
            settings,
            consumer,
            producer,
            executor,
            lanes,
            admission,
            metrics,
            fatal,
            Clock.systemUTC());
    Thread t = Thread.ofPlatform().name("fleet-poll-" + settings.workerId()).start(loop);
    CarrierWatch watch =
        new CarrierWatch(CarrierWatch.PERIOD, CarrierWatch.STARVED_AFTER, lanes::overdue);
    return new Worker(loop, t, settings.drainTimeout(), admission, checkpoints, watch);
  }

  static Map<String, Object> consumerProperties(WorkerSettings s) {
    Map<String, Object> p = new HashMap<>();
    p.put("group.id", s.groupId());
    p.put("client.id", "fleet-worker-" + s.workerId());
    p.put("enable.auto.commit", false);
    p.put("isolation.level", "read_committed");
    p.put("auto.offset.reset", "earliest");
    p.put("partition.assignment.strategy", CooperativeStickyAssignor.class.getName());
    p.put("max.poll.records", 5000);
    p.put("fetch.max.wait.ms", 100);
    p.put("session.timeout.ms", 15_000);
    if (s.staticMembership()) {
      p.put("group.instance.id", s.workerId());
    }
    p.putAll(s.kafka());
    return p;
  }

  static Map<String, Object> producerProperties(WorkerSettings s) {
    Map<String, Object> p = new HashMap<>();
    p.put("transactional.id", s.transactionalId());
    p.put("client.id", "fleet-worker-" + s.workerId());
    p.put("enable.idempotence", true);
    p.put("acks", "all");
    p.put("linger.ms", 5);
    p.put("compression.type", "lz4");
    p.put("transaction.timeout.ms", (int) s.transactionTimeout().toMillis());
    p.putAll(s.kafka());
    return p;
  }

  /** Where the worker is in its lifecycle: STARTING, RUNNING, DRAINING, STOPPED or FAILED. */
  public String state() {
    return loop.lifecycle.get().name();
  }

  /** False once the loop has ended, asked to or not. */
  public boolean isRunning() {
    return loop.terminated.getCount() > 0;
  }

  /** Running, and able to reach Redis when it uses it; what {@code /health} reports. */
  public boolean isHealthy() {
    return isRunning() && admission.healthy() && !watch.starved();
  }

  /**
   * Running, and its lanes able to run: what {@code /live} reports, for a liveness probe. Unlike
   * {@link #isHealthy} it stays true while Redis is unreachable (the worker waits that out by
   * itself); it turns false when handlers spinning past their time-out hold every virtual-thread
   * carrier ({@link CarrierWatch}), which only a restart cures.
   */
  public boolean isLive() {
    return isRunning() && !watch.starved();
  }

  /**
   * For benchmarks: round trips to Redis so far, items checked there (zeros without Redis), and
   * polls that returned records.
   */
  public long[] counters() {
    long polls = loop.batches.get();
    return new long[] {admission.roundTrips(), admission.checked(), polls};
  }

  /** Why the worker stopped on its own, if it did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(loop.failure);
  }

  /** Waits until the worker has stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return loop.terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Drains and stops; returns when the clients are closed. */
  @Override
  public void close() {
    loop.stop();
    try {
      if (!loop.terminated.await(drainTimeout.toMillis() + 15_000, TimeUnit.MILLISECONDS)) {
        thread.interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (checkpoints != null) checkpoints.close();
    watch.close();
  }
}
