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

  /**
   * Lanes abandoned past their deadline whose handler has not returned yet. Each keeps its item's
   * lease (renewed by the gate) until the handler returns, so the item's retry cannot run beside
   * it.
   */
  private final Set<Lane> overdue = ConcurrentHashMap.newKeySet();

  /** Cleared on stop. */
  private volatile boolean running = true;

  /** Decides how results reach their slots (directly, or after a done marker in Redis). */
  private final Admission admission;

  /** Where a lane reports an error the process cannot run on after. */
  private final FatalSignal fatal;

  Lanes(
      int concurrency,
      ItemExecutor executor,
      WorkerMetrics metrics,
      Admission admission,
      FatalSignal fatal) {
    this.admission = admission;
    this.fatal = fatal;
    this.concurrency = concurrency;
    this.capacity = Math.max(2 * concurrency, 8192);
    this.executor = executor;
    this.metrics = metrics;
  }

  /**
   * Hands an attempt's result on through the admission (the Redis gate writes its done marker
   * first). Only the caller that won {@link Attempt#finish()} may post.
   */
  private void post(Attempt a, ItemResult result) {
    admission.post(a, result);
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
      if (lane.current != null || lane.taking) n++;
    }
    return n;
  }

  /** Handler threads still running after their attempt timed out. */
  int overdue() {
    return overdue.size();
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
    admission.release(a);
  }

  /** Posts time-outs for attempts past their deadline; called by the poll thread each loop. */
  void checkDeadlines(long nowNanos) {
    for (Lane lane : lanes) {
      Attempt a = lane.current;
      if (a != null && nowNanos > a.deadlineNanos && a.finish()) {
        a.overdue = true; // before the result is posted: the gate then keeps the lease
        lane.overdueAttempt = a;
        overdue.add(lane);
        lane.abandoned = true;
        ItemResult timedOut;
        try {
          timedOut = executor.timedOut(a);
        } catch (RuntimeException e) {
          timedOut = crashedSafely(a, e);
        }
        post(a, timedOut);
        if (lanes.remove(lane)) live.decrementAndGet();
        lane.thread.interrupt();
        // The lane may have returned from its handler and left before it could see the flags
        // set above; then nobody else would release the lease (see Lane's finally).
        if (lane.exited && overdue.remove(lane)) release(a);
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

  /**
   * After {@link #stop()}: waits (a few instructions' worth) until no lane is in the middle of
   * taking an attempt, so that a following {@link #clear()} removes only attempts queued after
   * every taken one: per partition, what ran stays a prefix of the offsets, and all of it commits.
   */
  void awaitNoneTaking() {
    for (Lane lane : lanes) {
      while (lane.taking) Thread.onSpinWait();
    }
  }

  /**
   * The result of an attempt whose run threw outside the handler; if even building that result
   * fails, the record is POISON with the cause, so that its offset always finishes.
   */
  private ItemResult crashedSafely(Attempt a, Throwable e) {
    try {
      return executor.crashed(a, e);
    } catch (RuntimeException second) {
      second.addSuppressed(e);
      return executor.poison(
          a.slot.record,
          new io.itemfleet.schemas.DecodeError(
              io.itemfleet.schemas.DecodeError.Kind.INVALID_VALUE, "$", "worker error: " + second));
    }
  }

  /** One slot of concurrency. */
  private final class Lane implements Runnable {
    /** The attempt being run, or null. */
    volatile Attempt current;

    /** True while the lane is taking an attempt from the queue (it counts as busy then). */
    volatile boolean taking;

    /** Set by the watchdog: this lane's result no longer counts, and it exits after its handler. */
    volatile boolean abandoned;

    /**
     * The attempt the watchdog timed out on this lane; its lease is released when the lane ends.
     */
    volatile Attempt overdueAttempt;

    /**
     * Set when the lane's thread is leaving. With {@link #overdueAttempt} it makes a handshake:
     * whichever of the lane and the watchdog sees the other's write releases the lease (exactly
     * one, through {@code overdue.remove}).
     */
    volatile boolean exited;

    /** The virtual thread. */
    Thread thread;

    @Override
    public void run() {
      try {
        while (!abandoned) {
          // `taking` is written before `running` is read, and the drain writes `running` before
          // it reads `taking` (busy()): either this lane sees the stop and takes nothing, or the
          // drain sees it busy and waits for what it took. A taken attempt always runs: giving
          // one back would leave a gap below attempts other lanes ran, so that their results
          // could not be committed and they would run again after the restart.
          taking = true;
          if (!running) {
            taking = false;
            break;
          }
          Attempt a = ready.poll();
          if (a == null) {
            taking = false;
            break; // the poll thread starts a new lane when work arrives
          }
          queued.decrementAndGet();
          current = a;
          taking = false;
          if (a.state.revoked) {
            current = null;
            release(a);
            continue;
          }
          ItemResult result;
          try {
            result = executor.run(a);
          } catch (Throwable e) {
            if (FatalSignal.isFatal(e)) {
              fatal.raise(e); // the worker stops without committing; this record runs again
              break;
            }
            log.error(
                "item runner failed unexpectedly on {}", ItemExecutor.source(a.slot.record), e);
            result = crashedSafely(a, e);
          }
          Thread.interrupted(); // a late interrupt must not hit the next attempt
          if (!a.finish()) {
            // The watchdog posted the time-out and took this lane out of the count; it may not
            // have flagged the lane yet, so stop here rather than take work its late interrupt
            // could hit.
            current = null;
            break;
          }
          // Null: interrupted, but not by the watchdog for this attempt; retry it.
          post(a, result != null ? result : crashedSafely(a, new InterruptedException()));
          current = null; // only now: a drain that finds no lane busy has every result posted
        }
      } catch (Throwable t) {
        // Nothing above throws but the JVM itself (results are values); stop the worker.
        fatal.raise(t);
      } finally {
        if (lanes.remove(this)) live.decrementAndGet();
        exited = true; // before reading overdueAttempt; the watchdog writes it, then reads this
        Attempt late = overdueAttempt;
        if (late != null && overdue.remove(this)) {
          release(late); // the handler has returned at last: its retry may run now
        }
      }
    }
  }
}
