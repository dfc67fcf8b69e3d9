package io.itemfleet.worker.config;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A fleet-wide limit on the items carrying one tag, enforced in Redis across all workers.
 *
 * @param concurrency items with the tag in flight at most, over the whole fleet
 * @param ratePerSecond items with the tag started per second at most, over the whole fleet
 */
public record TagLimit(String tag, OptionalInt concurrency, Optional<Double> ratePerSecond) {
  public TagLimit {
    if (concurrency.isEmpty() && ratePerSecond.isEmpty()) {
      throw new IllegalArgumentException("limits." + tag + ": set concurrency, rate or both");
    }
    if (concurrency.isPresent() && concurrency.getAsInt() < 1) {
      throw new IllegalArgumentException(
          "limits." + tag + ".concurrency: must be >= 1, was " + concurrency.getAsInt());
    }
    if (ratePerSecond.isPresent() && !(ratePerSecond.get() > 0)) {
      throw new IllegalArgumentException(
          "limits." + tag + ".rate: must be > 0, was " + ratePerSecond.get());
    }
  }

  /** Parses a rate such as {@code 50/s}, {@code 600/m} or {@code 1000/h} into items per second. */
  static double parseRate(String text, String path) {
    String[] parts = text.trim().split("/");
    if (parts.length == 2) {
      try {
        double n = Double.parseDouble(parts[0].trim());
        Duration per =
            switch (parts[1].trim()) {
              case "s" -> Duration.ofSeconds(1);
              case "m" -> Duration.ofMinutes(1);
              case "h" -> Duration.ofHours(1);
              default -> null;
            };
        if (per != null && n > 0) return n * 1000.0 / per.toMillis();
      } catch (NumberFormatException e) {
        // falls through to the error below
      }
    }
    throw new ConfigException(
        path + ": must be a rate like 50/s, 600/m or 1000/h, was '" + text + "'");
  }

  /** The spacing between two starts at the limit rate, in microseconds (GCRA's emission). */
  public long emissionMicros() {
    return Math.max(1, Math.round(1_000_000 / ratePerSecond.orElseThrow()));
  }
}
