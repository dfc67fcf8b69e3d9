package io.itemfleet.worker;

import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.TaskSettings;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One attempt at one record, handed from the poll thread to a lane. Exactly one result is posted:
 * the lane's or, past the deadline, the watchdog's ({@link #finish()} decides).
 */
final class Attempt {
  /** The partition assignment this attempt belongs to. */
  final PartitionState state;

  /** The record's slot in that partition's window. */
  final PartitionState.Slot slot;

  /**
   * The decoded task once the poll thread (retry topics) or the Redis gate decoded it, else null.
   */
  volatile TaskMessage decoded;

  /** Its Redis keys once the gate checked it; null when it holds no lease (or Redis is off). */
  volatile GateKeys keys;

  /**
   * The Redis gate's keys worked out on the poll thread at submit ({@code RedisGate.submit}), for
   * the gate thread to take instead of working them out itself; null when not done.
   */
  volatile GateKeys preparedKeys;

  /**
   * When the handler must be done (System.nanoTime); MAX_VALUE until the handler starts. Written
   * after {@link #task}, {@link #settings} and {@link #startNanos}, which this volatile write
   * publishes to the watchdog (it reads the deadline first).
   */
  volatile long deadlineNanos = Long.MAX_VALUE;

  /** The task as run, for the watchdog's time-out result; set before the handler starts. */
  TaskMessage task;

  /** Its effective settings; set with {@link #task}. */
  TaskSettings settings;

  /**
   * Set when the handler saved or found a checkpoint, which the done marker's write then removes.
   */
  volatile boolean checkpointed;

  /**
   * Set by the watchdog when it timed this attempt out while its handler kept running; the Redis
   * gate then keeps the item's lease until the handler returns.
   */
  volatile boolean overdue;

  /**
   * The handler's context asks for the time-out to start at {@code nanoTime} (a {@code process}
   * child still starting, see {@code TaskView.timeoutStartsAt}): the deadline becomes that plus the
   * type's timeout. Lane thread only; the watchdog reads the deadline as it always does.
   */
  void timeoutStartsAt(long nanoTime) {
    deadlineNanos = nanoTime + settings.timeout().toNanos();
  }

  /** When the handler started (System.nanoTime); published with {@link #deadlineNanos}. */
  long startNanos;

  /**
   * The lease tracker's links: the attempts holding a lease form a list through these, so that
   * taking and ending a lease is two pointer writes, not a hash set's add and remove. Gate thread
   * only ({@link LeaseTracker}).
   */
  Attempt leasePrev;

  Attempt leaseNext;

  boolean leaseHeld;

  /** 1 once a result was claimed; flipped through {@link #FINISHED}. */
  @SuppressWarnings("unused")
  private volatile int finished;

  private static final VarHandle FINISHED;

  static {
    try {
      FINISHED = MethodHandles.lookup().findVarHandle(Attempt.class, "finished", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  Attempt(PartitionState state, PartitionState.Slot slot, TaskMessage decoded) {
    this.state = state;
    this.slot = slot;
    this.decoded = decoded;
  }

  /** Claims the right to post this attempt's result; true for exactly one caller. */
  boolean finish() {
    return FINISHED.compareAndSet(this, 0, 1);
  }
}
