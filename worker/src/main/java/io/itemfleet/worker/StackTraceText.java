package io.itemfleet.worker;

import io.itemfleet.schemas.FailureEvent;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A handler's exception as bounded text for failure events: each throwable of the cause chain with
 * its first frames, so that the root cause survives the {@link FailureEvent#MAX_STACK_CHARS} cut
 * however deep the outer traces are.
 */
final class StackTraceText {
  /** Frames kept per throwable. */
  private static final int FRAMES = 24;

  /** Causes followed at most. */
  private static final int CAUSES = 8;

  private StackTraceText() {}

  static String of(Throwable t) {
    StringBuilder sb = new StringBuilder(1024);
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    int depth = 0;
    for (Throwable c = t; c != null && depth < CAUSES && seen.add(c); c = c.getCause(), depth++) {
      if (depth > 0) sb.append("Caused by: ");
      sb.append(c).append('\n');
      StackTraceElement[] frames = c.getStackTrace();
      int n = Math.min(frames.length, FRAMES);
      for (int i = 0; i < n; i++) sb.append("\tat ").append(frames[i]).append('\n');
      if (frames.length > n) sb.append("\t... ").append(frames.length - n).append(" more\n");
    }
    if (sb.length() <= FailureEvent.MAX_STACK_CHARS) return sb.toString();
    // Keep the top (what was thrown) and the end (the root cause).
    int half = FailureEvent.MAX_STACK_CHARS / 2 - 20;
    return sb.substring(0, half) + "\n\t... (cut) ...\n" + sb.substring(sb.length() - half);
  }
}
