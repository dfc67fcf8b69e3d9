package io.itemfleet.worker;

import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code concurrency} virtual threads, each running one attempt at a time, taken from the ready
 * queue; results go to the completion queue. A lane whose attempt passes its deadline is abandoned:
 * the watchdog posts the time-out, interrupts it and starts a replacement, so a hung handler never
 * holds a slot.
 */
final class Lanes {
  private static final Logger log = LoggerFactory.getLogger(Lanes.class);

  /** Attempts ready to run; filled by the poll thread. */
  private final BlockingQueue<Attempt> ready;

  /** Results for the poll thread. */
  private final Queue<Completion> completions;

  /** Runs attempts. */
  private final ItemExecutor executor;

  /** Live lanes. */
  private final Set<Lane> lanes = ConcurrentHashMap.newKeySet();

  /** Lanes running an attempt right now. */
  private final AtomicInteger busy = new AtomicInteger();

  /** Cleared on stop. */
  private volatile boolean running = true;

  /** A finished attempt and its result. */
  record Completion(Attempt attempt, ItemResult result) {}

  Lanes(BlockingQueue<Attempt> ready, Queue<Completion> completions, ItemExecutor executor) {
    this.ready = ready;
    this.completions = completions;
    this.executor = executor;
  }

  void start(int count) {
    for (int i = 0; i < count; i++) {
      startLane();
    }
  }

  /** Attempts running now. */
  int busy() {
    return busy.get();
  }

  /** Posts time-outs for attempts past their deadline; called by the poll thread each loop. */
  void checkDeadlines(long nowNanos) {
    for (Lane lane : lanes) {
      Attempt a = lane.current;
      if (a != null && nowNanos > a.deadlineNanos && a.finish()) {
        completions.add(new Completion(a, executor.timedOut(a)));
        lane.abandoned = true;
        lanes.remove(lane);
        busy.decrementAndGet();
        lane.thread.interrupt();
        log.warn(
            "attempt of item {} timed out after {} ms; its lane is replaced",
            a.task.item(),
            a.settings.timeout().toMillis());
        startLane();
      }
    }
  }

  /** Stops taking attempts; running ones finish or are abandoned by the caller. */
  void stop() {
    running = false;
    for (Lane lane : lanes) {
      if (lane.current == null) {
        lane.thread.interrupt();
      }
    }
  }

  private void startLane() {
    Lane lane = new Lane();
    lanes.add(lane);
    lane.thread = Thread.ofVirtual().name("fleet-lane").start(lane);
  }

  /** One slot of concurrency. */
  private final class Lane implements Runnable {
    /** The attempt being run, or null. */
    volatile Attempt current;

    /** Set by the watchdog: this lane's result no longer counts, and it exits after its handler. */
    volatile boolean abandoned;

    /** The virtual thread. */
    Thread thread;

    @Override
    public void run() {
      while (running && !abandoned) {
        Attempt a;
        try {
          a = ready.poll(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          continue; // stop() interrupts idle lanes; the loop condition decides
        }
        if (a == null || a.state.revoked) {
          continue;
        }
        busy.incrementAndGet();
        current = a;
        ItemResult result;
        try {
          result = executor.run(a);
        } catch (RuntimeException | Error e) {
          log.error("item runner failed unexpectedly on {}", ItemExecutor.source(a.slot.record), e);
          result = executor.crashed(a, e);
        }
        current = null;
        Thread.interrupted(); // a late interrupt must not hit the next attempt
        if (result != null && a.finish()) {
          busy.decrementAndGet();
          completions.add(new Completion(a, result));
        } else if (!abandoned) {
          busy.decrementAndGet();
        }
      }
    }
  }
}
