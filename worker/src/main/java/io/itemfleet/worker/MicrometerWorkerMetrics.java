package io.itemfleet.worker;

import io.itemfleet.schemas.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Worker metrics on a Micrometer registry: {@code fleet.items} (outcome, type), {@code
 * fleet.item.duration}, {@code fleet.retries}, {@code fleet.inflight}, {@code fleet.consumer.lag},
 * {@code fleet.commit.duration}. In Prometheus text these read {@code fleet_items_total} and so on.
 */
public final class MicrometerWorkerMetrics implements WorkerMetrics {
  /** The registry. */
  private final MeterRegistry registry;

  /** Counters by type and outcome, created on first use. */
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  /** Handler timers by type. */
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  /** Commit timer. */
  private final Timer commits;

  /**
   * The suppliers behind function counters. Micrometer holds a function counter's object weakly
   * (gauges are told {@code strongReference(true)}); a lambda nothing else refers to would be
   * collected at the first GC and the counter would stop, so this object keeps them.
   */
  private final java.util.List<LongSupplier> held =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * POISON records of this worker, any type: registered at 0 when the worker starts, so that the
   * first one is an increase Prometheus sees ({@code fleet_items_total}'s series are created at
   * their first outcome, already at 1, and a rule on them either missed a worker's first POISON or,
   * told to count new series, fired again for old ones after a Prometheus restart).
   */
  private final Counter poison;

  public MicrometerWorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.commits =
        Timer.builder("fleet.commit.duration")
            .description("One Kafka transaction: outputs and offsets")
            .register(registry);
    this.poison =
        Counter.builder("fleet.poison")
            .description("POISON records (undecodable), counted when committed")
            .register(registry);
  }

  /**
   * Most distinct task types given meters of their own; the types of later ones are counted as
   * {@value #OTHER}. Type names come from messages (a POISON or unknown-type record is counted
   * under whatever type it names), so without a bound a stream of made-up names would add meters
   * without end.
   */
  static final int MAX_TYPES = 1000;

  /** The type label of the types past {@link #MAX_TYPES}. */
  static final String OTHER = "(other)";

  /** The types that have meters of their own. */
  private final Set<String> types = ConcurrentHashMap.newKeySet();

  private String label(String type) {
    if (types.contains(type)) return type;
    if (types.size() >= MAX_TYPES) return OTHER;
    types.add(type); // a race may let a few more in; the bound stays about MAX_TYPES
    return type;
  }

  @Override
  public void outcome(String anyType, Outcome outcome) {
    String type = label(anyType);
    counters
        .computeIfAbsent(
            type + "\u0000" + outcome,
            k ->
                Counter.builder("fleet.items")
                    .description("Terminal outcomes, counted when committed")
                    .tag("type", type)
                    .tag("outcome", outcome.name())
                    .register(registry))
        .increment();
    if (outcome == Outcome.POISON) poison.increment();
  }

  @Override
  public void retry(String anyType) {
    String type = label(anyType);
    counters
        .computeIfAbsent(
            type + "\u0000retry",
            k ->
                Counter.builder("fleet.retries")
                    .description("Retries scheduled")
                    .tag("type", type)
                    .register(registry))
        .increment();
  }

  @Override
  public void handlerTime(String anyType, long nanos) {
    String type = label(anyType);
    timers
        .computeIfAbsent(
            type,
            k ->
                Timer.builder("fleet.item.duration")
                    .description("Handler time per attempt")
                    .tag("type", type)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofMinutes(5))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void commit(long nanos, int records) {
    commits.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void gauges(LongSupplier inFlight, LongSupplier lag, LongSupplier overdue) {
    Gauge.builder("fleet.inflight", inFlight, s -> s.getAsLong())
        .description("Attempts running now")
        .strongReference(true) // the supplier is a lambda only this gauge refers to
        .register(registry);
    Gauge.builder("fleet.consumer.lag", lag, s -> s.getAsLong())
        .description("Records behind the log end, over the assignment")
        .strongReference(true)
        .register(registry);
    Gauge.builder("fleet.handlers.overdue", overdue, s -> s.getAsLong())
        .description(
            "Handler threads still running after their attempt timed out (they ignore the"
                + " interrupt); each keeps its item's lease until it ends")
        .strongReference(true)
        .register(registry);
  }

  @Override
  public void redis(
      LongSupplier roundTrips, LongSupplier checked, LongSupplier healthy, LongSupplier lost) {
    held.addAll(java.util.List.of(roundTrips, checked, lost));
    io.micrometer.core.instrument.FunctionCounter.builder(
            "fleet.redis.roundtrips", roundTrips, s -> s.getAsLong())
        .description("Pipelined round trips to Redis (each covers a whole batch of items)")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "fleet.redis.checked", checked, s -> s.getAsLong())
        .description("Items checked in Redis before running (idempotency, cache, limits)")
        .register(registry);
    Gauge.builder("fleet.redis.up", healthy, s -> s.getAsLong())
        .description("1 while Redis answers, 0 while the worker is paused waiting for it")
        .strongReference(true)
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "fleet.leases.lost", lost, s -> s.getAsLong())
        .description(
            "Leases found taken or expired while their attempt still ran: another worker may have"
                + " run the item too")
        .register(registry);
  }
}
