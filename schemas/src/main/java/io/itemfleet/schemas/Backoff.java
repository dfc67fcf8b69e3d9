package io.itemfleet.schemas;

import java.time.Duration;

/** Exponential backoff: attempt n (1-based) waits base × 2^(n−1), capped at max. */
public record Backoff(Duration base, Duration max) {
  public Backoff {
    if (base.isNegative() || base.isZero()) {
      throw new IllegalArgumentException("backoff.base must be > 0, was " + Durations.format(base));
    }
    if (max.compareTo(base) < 0) {
      throw new IllegalArgumentException(
          "backoff.max ("
              + Durations.format(max)
              + ") must be >= backoff.base ("
              + Durations.format(base)
              + ")");
    }
  }
}
