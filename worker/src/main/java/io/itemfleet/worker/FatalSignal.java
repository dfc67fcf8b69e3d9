package io.itemfleet.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries an error that the process cannot run on after (an {@link OutOfMemoryError}, an internal
 * JVM error) from whichever thread met it to the poll thread, which then stops the worker at once,
 * without draining: the worker's {@code failure()} is set and {@code fleet worker} exits non-zero,
 * so the orchestrator restarts it. Uncommitted work runs again elsewhere; leases of attempts that
 * never started are released, the rest expire.
 */
final class FatalSignal {
  private static final Logger log = LoggerFactory.getLogger(FatalSignal.class);

  /** The first fatal error raised, or null. */
  private volatile Throwable cause;

  /**
   * True for errors after which the JVM's state cannot be trusted. A {@link StackOverflowError}
   * unwinds cleanly, so it is a handler bug (a retryable result), not a reason to stop.
   */
  static boolean isFatal(Throwable t) {
    return t instanceof VirtualMachineError && !(t instanceof StackOverflowError);
  }

  /** Records {@code t} (the first one wins) for the poll thread to act on. */
  void raise(Throwable t) {
    if (cause == null) {
      cause = t;
      log.error("fatal error, stopping the worker without draining: {}", t.toString(), t);
    }
  }

  /** True once a fatal error was raised. */
  boolean raised() {
    return cause != null;
  }

  /** Throws the raised error, if any, on the calling (poll) thread. */
  void rethrowIfRaised() {
    Throwable t = cause;
    if (t == null) return;
    if (t instanceof Error e) throw e;
    throw new IllegalStateException("fatal: " + t, t);
  }
}
