package io.itemfleet.cli;

import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a flag that a service's main thread polls, so that it drains,
 * closes and returns exit code 0. Left to the JVM, either signal runs the shutdown hooks and then
 * exits 143 (or 130) however cleanly the hooks drained, and orchestrators record a failure.
 */
final class StopSignal {
  /** The signal received, or null. */
  private final AtomicReference<String> received = new AtomicReference<>();

  private StopSignal() {}

  /** Installs the handlers; where a platform refuses one, that signal keeps the JVM's default. */
  static StopSignal install() {
    return install(() -> {});
  }

  /** The same, running {@code onSecond} on a second signal (one that came after the first). */
  static StopSignal install(Runnable onSecond) {
    StopSignal s = new StopSignal();
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(
            new Signal(name),
            sig -> {
              if (!s.received.compareAndSet(null, "SIG" + name)) onSecond.run();
            });
      } catch (IllegalArgumentException unsupported) {
        // e.g. a JVM started with -Xrs: the shutdown hook still drains
      }
    }
    return s;
  }

  boolean requested() {
    return received.get() != null;
  }

  /** The signal's name, e.g. SIGTERM. */
  String name() {
    return received.get();
  }
}
