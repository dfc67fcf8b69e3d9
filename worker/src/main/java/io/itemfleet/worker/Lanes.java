package io.itemfleet.worker;

import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Up to {@code concurrency} virtual threads ("lanes"), each running one attempt at a time taken
 * from a lock-free ready queue. A lane keeps taking attempts while any are queued and ends when
 * none is; the poll thread starts lanes for queued attempts, up to the concurrency. Nothing ever
 * parks on a shared lock, so hundreds of lanes never queue behind each other to take work. A result
 * is written straight into its record's slot; the poll thread sees it when it scans the window at
 * commit time.
 *
 * <p>A lane whose attempt passes its deadline is abandoned: the watchdog posts the time-out,
 * interrupts it and frees its slot, so a hung handler never holds a slot.
 */
final class Lanes {
  private static final Logger log = LoggerFactory.getLogger(Lanes.class);

  /** Attempts ready to run; offered by the poll thread only. */
  private final Queue<Attempt> ready = new ConcurrentLinkedQueue<>();

  /** Attempts in {@link #ready}. */
  private final AtomicInteger queued = new AtomicInteger();

  /** Records handler latency. */
  private final WorkerMetrics metrics;

  /** Results posted since the poll thread last took the count. */
  private final AtomicInteger finished = new AtomicInteger();

  /** Runs attempts. */
  private final ItemExecutor executor;

  /** Most lanes at once. */
  private final int concurrency;

  /** Most attempts queued at once. */
  private final int capacity;

  /** Lanes that count against the concurrency (live and not abandoned). */
  private final Set<Lane> lanes = ConcurrentHashMap.newKeySet();

  /** Size of {@link #lanes}. */
  private final AtomicInteger live = new AtomicInteger();

  /** Cleared on stop. */
  private volatile boolean running = true;

  /** The Redis gate, or null when the worker runs without Redis. */
  private final RedisGate gate;

  Lanes(int concurrency, ItemExecutor executor, WorkerMetrics metrics, RedisGate gate) {
    this.gate = gate;
    this.concurrency = concurrency;
    this.capacity = Math.max(2 * concurrency, 8192);
    this.executor = executor;
    this.metrics = metrics;
  }

  /**
   * Hands an attempt's result on: through the Redis gate (which writes its done marker first) when
   * the attempt holds a lease, else straight into its slot. Only the caller that won {@link
   * Attempt#finish()} may post.
   */
  private void post(Attempt a, ItemResult result) {
    if (gate != null && RedisGate.gated(a)) {
      gate.finish(a, result);
    } else {
      complete(a, result);
    }
  }

  /**
   * Writes a result into its slot, where the poll thread finds it when it next scans the window.
   */
  void complete(Attempt a, ItemResult result) {
    a.slot.result = result;
    finished.incrementAndGet();
    if (result.handlerRan()) metrics.handlerTime(result.type(), result.handlerNanos());
  }

  /** Results posted since the last call. Poll thread only. */
  int takeFinishedCount() {
    return finished.getAndSet(0);
  }

  /** Results posted since the last {@link #takeFinishedCount()}. */
  int finishedCount() {
    return finished.get();
  }

  /** Attempts running now. */
  int busy() {
    int n = 0;
    for (Lane lane : lanes) { // not per item: the drain loop and the in-flight gauge ask
      if (lane.current != null) n++;
    }
    return n;
  }

  /** Attempts queued and not yet taken by a lane. */
  int queued() {
    return queued.get();
  }

  /** How many more attempts the ready queue takes. */
  int room() {
    return capacity - queued.get();
  }

  /** Queues an attempt; call {@link #startLanes()} after a batch of offers. Poll thread only. */
  void offer(Attempt a) {
    ready.add(a);
    queued.incrementAndGet();
  }

  /** Starts lanes for queued attempts, up to the concurrency. Poll thread only. */
  void startLanes() {
    if (!running) return;
    int wanted = Math.min(concurrency - live.get(), queued.get());
    for (int i = 0; i < wanted; i++) {
      Lane lane = new Lane();
      lanes.add(lane);
      live.incrementAndGet();
      lane.thread = Thread.ofVirtual().name("fleet-lane").start(lane);
    }
  }

  /** Drops every queued attempt (they never started); their leases are released. */
  void clear() {
    for (Attempt a = ready.poll(); a != null; a = ready.poll()) {
      queued.decrementAndGet();
      release(a);
    }
  }

  private void release(Attempt a) {
    if (gate != null && RedisGate.gated(a)) gate.release(a);
  }

  /** Posts time-outs for attempts past their deadline; called by the poll thread each loop. */
  void checkDeadlines(long nowNanos) {
    for (Lane lane : lanes) {
      Attempt a = lane.current;
      if (a != null && nowNanos > a.deadlineNanos && a.finish()) {
        post(a, executor.timedOut(a));
        lane.abandoned = true;
        if (lanes.remove(lane)) live.decrementAndGet();
        lane.thread.interrupt();
        log.warn(
            "attempt of item {} timed out after {} ms; its lane is abandoned",
            a.task.item(),
            a.settings.timeout().toMillis());
      }
    }
  }

  /** Stops taking attempts; running ones finish or are abandoned by the caller. */
  void stop() {
    running = false;
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
      try {
        while (running && !abandoned) {
          Attempt a = ready.poll();
          if (a == null) {
            break; // the poll thread starts a new lane when work arrives
          }
          queued.decrementAndGet();
          if (a.state.revoked) {
            release(a);
            continue;
          }
          current = a;
          ItemResult result;
          try {
            result = executor.run(a);
          } catch (RuntimeException | Error e) {
            log.error(
                "item runner failed unexpectedly on {}", ItemExecutor.source(a.slot.record), e);
            result = executor.crashed(a, e);
          }
          current = null;
          Thread.interrupted(); // a late interrupt must not hit the next attempt
          if (!a.finish()) {
            // The watchdog posted the time-out and took this lane out of the count; it may not
            // have flagged the lane yet, so stop here rather than take work its late interrupt
            // could hit.
            break;
          }
          // Null: interrupted, but not by the watchdog for this attempt; retry it.
          post(a, result != null ? result : executor.crashed(a, new InterruptedException()));
        }
      } finally {
        if (lanes.remove(this)) live.decrementAndGet();
      }
    }
  }
}
