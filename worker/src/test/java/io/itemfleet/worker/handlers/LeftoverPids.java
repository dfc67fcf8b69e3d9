package io.itemfleet.worker.handlers;

import java.nio.file.Files;
import java.nio.file.Path;

/** The process whose PID a test's command wrote to a file, for tests of what commands leave. */
final class LeftoverPids {
  private LeftoverPids() {}

  /**
   * Whether the process whose PID {@code pidFile} holds still runs after waiting up to 5 s for it
   * to end.
   */
  static boolean stillAlive(Path pidFile) throws Exception {
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    long end = System.nanoTime() + 5_000_000_000L;
    while (alive(pid) && System.nanoTime() < end) Thread.sleep(50);
    return alive(pid);
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
