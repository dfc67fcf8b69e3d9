package io.itemfleet.producer;

/**
 * Two halves of a check run side by side: one on the calling thread, one on a short-lived thread of
 * its own (not the common pool, which may be busy reaching the broker meanwhile). Used while a
 * produce run checks its input, when nothing else is working yet.
 */
final class TwoThreads {
  private TwoThreads() {}

  /** Inputs smaller than this are checked on one thread: a thread costs more than it saves. */
  static final int MIN_PARALLEL = 1 << 16;

  /** True when {@code size} units of work are worth splitting on this machine. */
  static boolean worthIt(long size) {
    return size >= MIN_PARALLEL && Runtime.getRuntime().availableProcessors() > 1;
  }

  /**
   * Runs {@code a} here and {@code b} beside it when {@code parallel}, else one after the other.
   */
  static void run(boolean parallel, Runnable a, Runnable b) {
    if (!parallel) {
      a.run();
      b.run();
      return;
    }
    Throwable[] failed = new Throwable[1];
    Thread t =
        Thread.ofPlatform()
            .name("fleet-produce-check")
            .daemon()
            .start(
                () -> {
                  try {
                    b.run();
                  } catch (Throwable e) {
                    failed[0] = e;
                  }
                });
    try {
      a.run();
    } finally {
      boolean interrupted = false;
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // the other half must finish before its results are read
        }
      }
      if (interrupted) Thread.currentThread().interrupt();
    }
    if (failed[0] instanceof RuntimeException e) throw e;
    if (failed[0] instanceof Error e) throw e;
    if (failed[0] != null)
      throw new IllegalStateException("the check's second half failed", failed[0]);
  }
}
