package io.itemfleet.cli;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;

/** Whether stdout is a terminal, and small formatting helpers for progress output. */
final class Terminal {
  private Terminal() {}

  /**
   * True when stdout is an interactive terminal (progress bars), false when piped or redirected.
   */
  static boolean interactive() {
    Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      // JDK 22+ returns a Console even when redirected; isTerminal() tells the truth there.
      return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
    } catch (ReflectiveOperationException e) {
      return true; // JDK 21: a non-null console means a terminal
    }
  }

  /** {@code 48,700} */
  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** A one-line bar, e.g. {@code [#########...........] 45% 9,000/20,000 8,120/s ETA 1s}. */
  static void bar(PrintStream out, String label, long done, long total, double perSecond) {
    int width = 30;
    double f = total <= 0 ? 0 : Math.min(1.0, (double) done / total);
    int fill = (int) (f * width);
    String eta =
        perSecond > 0 && total > done ? " ETA " + Math.round((total - done) / perSecond) + "s" : "";
    out.printf(
        Locale.ROOT,
        "\r%s [%s%s] %3d%%  %s/%s  %s/s%s   ",
        label,
        "#".repeat(fill),
        ".".repeat(width - fill),
        Math.round(f * 100),
        count(done),
        count(total),
        count(Math.round(perSecond)),
        eta);
    out.flush();
  }
}
