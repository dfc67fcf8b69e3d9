package io.itemfleet.worker;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when the worker's lanes cannot run at all. Lanes are virtual threads, which the JDK never
 * preempts: handlers that spin on the CPU past their time-out (and ignore the interrupt) can hold
 * every carrier thread, and then no other lane runs again until the process restarts. Every {@code
 * period} a platform thread starts a tiny virtual thread; when none has run for {@code
 * starvedAfter} while handlers are overdue, the worker is starved: {@code /live} answers 503 so
 * that the orchestrator restarts it (the poll thread, a platform thread, has kept committing the
 * time-outs, so the runaway items are retried, and in the end FAILED, not run for ever).
 *
 * <p>Handlers doing legitimate CPU work within their time-outs never make it starved: it needs an
 * overdue handler too. Its own platform thread; {@link #starved} is read by any thread.
 */
final class CarrierWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CarrierWatch.class);

  /** Default: a probe per second, starved after a minute without one. */
  static final Duration PERIOD = Duration.ofSeconds(1);

  static final Duration STARVED_AFTER = Duration.ofSeconds(60);

  private final long periodNanos;
  private final long starvedAfterNanos;
  private final LongSupplier overdue;

  /** When a probe virtual thread last ran (System.nanoTime). */
  private final AtomicLong lastRan = new AtomicLong(System.nanoTime());

  private volatile boolean starved;
  private volatile boolean running = true;
  private final Thread thread;

  /**
   * @param overdue how many handlers still run past their time-out (the lanes' count)
   */
  CarrierWatch(Duration period, Duration starvedAfter, LongSupplier overdue) {
    this.periodNanos = period.toNanos();
    this.starvedAfterNanos = starvedAfter.toNanos();
    this.overdue = overdue;
    this.thread = Thread.ofPlatform().daemon().name("fleet-carrier-watch").start(this::watch);
  }

  /** True while no virtual thread could run for a while and handlers are overdue. */
  boolean starved() {
    return starved;
  }

  private void watch() {
    while (running) {
      Thread.ofVirtual().name("fleet-carrier-probe").start(() -> lastRan.set(System.nanoTime()));
      try {
        Thread.sleep(Duration.ofNanos(periodNanos));
      } catch (InterruptedException e) {
        return;
      }
      long silent = System.nanoTime() - lastRan.get();
      boolean now = silent > starvedAfterNanos && overdue.getAsLong() > 0;
      if (now && !starved) {
        log.error(
            "no lane has been able to run for {} ms: {} handler(s) past their time-out hold every"
                + " virtual-thread carrier (spinning on the CPU, ignoring the interrupt); /live"
                + " answers 503 so that the worker is restarted",
            silent / 1_000_000,
            overdue.getAsLong());
      } else if (!now && starved) {
        log.info("lanes run again; /live answers 200");
      }
      starved = now;
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
