package io.itemfleet.recorder;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text as PostgreSQL can store it. PostgreSQL refuses the NUL character (U+0000) in {@code text}
 * and its JSON escape in {@code jsonb}; a message carrying one (a handler's output, a payload, a
 * label from any Kafka client) made the recorder's whole transaction fail, and the recorder stop on
 * that same batch after every restart. Each NUL is stored as U+FFFD (the replacement character)
 * instead, in writes and in the lookups that must find them.
 */
final class PgText {
  private PgText() {}

  /** A JSON escape of NUL that is not itself escaped (an even number of backslashes before it). */
  private static final Pattern JSON_NUL = Pattern.compile("(?<!\\\\)((?:\\\\\\\\)*)\\\\u0000");

  /** {@code s} with every NUL replaced; null stays null. */
  static String of(String s) {
    return s == null || s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
  }

  /** JSON text for a jsonb parameter: raw NULs and their escapes replaced; null stays null. */
  static String json(String json) {
    if (json == null) return null;
    String s = of(json);
    if (!s.contains("u0000")) return s;
    return JSON_NUL.matcher(s).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "\\ufffd"));
  }
}
