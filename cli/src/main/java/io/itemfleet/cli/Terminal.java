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

  /**
   * {@code s} safe to print on a terminal: control characters (C0, DEL, C1) and the bidirectional
   * overrides that reorder what a reader sees become visible escapes ({@code \e}, {@code \x07},
   * {@code \u202e}), so that a job name or an error message can never clear the screen, move the
   * cursor or hide text.
   */
  static String safe(String s) {
    if (s == null) return "null";
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean bad =
          c < 0x20
              || (c >= 0x7f && c <= 0x9f)
              || (c >= 0x202a && c <= 0x202e)
              || (c >= 0x2066 && c <= 0x2069);
      if (!bad) {
        if (sb != null) sb.append(c);
        continue;
      }
      if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
      if (c == 0x1b) sb.append("\\e");
      else if (c == '\n') sb.append("\\n");
      else if (c == '\t') sb.append("\\t");
      else if (c < 0x100) sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
      else sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
    }
    return sb == null ? s : sb.toString();
  }

  /**
   * {@code s} as one word for a POSIX shell: as it is when made only of characters no shell treats
   * specially, else in single quotes (a quote inside as {@code '\''}), so that a copy-pasted hint
   * can never run a job name as a command.
   */
  static String shellQuote(String s) {
    if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:@%+=,-]+") && !s.startsWith("-")) return s;
    return "'" + safe(s).replace("'", "'\\''") + "'";
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
