package io.itemfleet.schemas;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The duration notation of messages and fleet.yaml: a whole number and a unit, e.g. {@code 250ms},
 * {@code 5s}, {@code 7d}.
 */
public final class Durations {
  private static final Pattern SHAPE = Pattern.compile("([0-9]{1,10})(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the text and the accepted shape
   */
  public static Duration parse(String text) {
    Matcher m = SHAPE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "not a duration: '"
              + text
              + "' (expected a whole number and a unit: ms, s, m, h or d, e.g. 250ms, 5s, 7d)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /**
   * Formats in the largest unit that represents {@code d} exactly, so that parse(format(d)) equals
   * d.
   */
  public static String format(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative duration: " + d);
    }
    long ms = d.toMillis();
    if (ms == 0) {
      return "0ms";
    }
    if (ms % 86_400_000L == 0) return ms / 86_400_000L + "d";
    if (ms % 3_600_000L == 0) return ms / 3_600_000L + "h";
    if (ms % 60_000L == 0) return ms / 60_000L + "m";
    if (ms % 1_000L == 0) return ms / 1_000L + "s";
    return ms + "ms";
  }
}
