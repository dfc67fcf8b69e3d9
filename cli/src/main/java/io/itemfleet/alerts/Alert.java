package io.itemfleet.alerts;

import io.itemfleet.schemas.Names;
import java.time.Instant;
import java.util.List;

/**
 * One alert for the webhook.
 *
 * @param kind FIRST (the first failure of a fingerprint in a job, sent at once), SUMMARY (later
 *     failures of it over a window, with their count) or POISON (always sent at once)
 * @param count failures this alert stands for
 * @param samples some of their items (or record coordinates where a POISON record has no item)
 * @param since the first of these failures
 * @param until the last of these failures
 * @param hint the command that lists them
 */
public record Alert(
    Kind kind,
    String job,
    String type,
    String fingerprint,
    String errorClass,
    String message,
    long count,
    List<String> samples,
    Instant since,
    Instant until,
    String hint) {

  /** What an alert reports. */
  public enum Kind {
    FIRST,
    SUMMARY,
    POISON
  }

  /**
   * One line for people: what, where, how many, what to run. The error class, message and samples
   * come from handlers and any Kafka client: their control characters (a newline could forge a
   * second alert line in a chat or a log) and the bidirectional controls that reorder the rest of a
   * line are shown escaped (a newline as a backslash and n, U+202E as a backslash and u202E), not
   * sent.
   */
  public String text() {
    String what =
        switch (kind) {
          case FIRST -> "new failure";
          case SUMMARY -> count + " more failures";
          case POISON -> count + " POISON record" + (count == 1 ? "" : "s");
        };
    List<String> shown = new java.util.ArrayList<>(samples.size());
    for (String s : samples) shown.add(oneLine(s));
    return "ItemFleet: "
        + what
        + " in job "
        + oneLine(job)
        + " (type "
        + oneLine(type)
        + "): "
        + oneLine(errorClass)
        + ": "
        + oneLine(message)
        + " — e.g. "
        + String.join(", ", shown)
        + " — "
        + oneLine(hint);
  }

  /** {@code s} with control, bidirectional-control and line-separator characters escaped. */
  static String oneLine(String s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String esc =
          switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> hidden(c) ? String.format("\\u%04X", (int) c) : null;
          };
      if (esc != null && out == null) out = new StringBuilder(s.length() + 16).append(s, 0, i);
      if (out != null) {
        if (esc != null) out.append(esc);
        else out.append(c);
      }
    }
    return out == null ? s : out.toString();
  }

  /**
   * What no name may hold ({@link Names#isControl}: control characters, bidi overrides and
   * isolates), and also the marks and separators that only matter in a line shown to people.
   */
  private static boolean hidden(char c) {
    return Names.isControl(c)
        || c == 0x061C
        || c == 0x200E
        || c == 0x200F
        || c == 0x2028
        || c == 0x2029;
  }
}
