package io.itemfleet.worker.config;

import java.time.Duration;
import java.util.List;
import java.util.function.DoubleSupplier;

/** Retry delays as plain functions: the delay list or exponential backoff, then jitter. */
public final class RetryPolicy {
  private RetryPolicy() {}

  /**
   * The delay before the next attempt, after {@code attemptsMade} attempts (1 after the first
   * failure), before jitter.
   */
  public static Duration baseDelay(TaskSettings s, int attemptsMade) {
    int n = Math.max(1, attemptsMade); // a first failure is 1; never an index below 0
    List<Duration> delays = s.retryDelays();
    if (!delays.isEmpty()) {
      return delays.get(Math.min(n, delays.size()) - 1);
    }
    long ms = s.backoff().orElseThrow().base().toMillis();
    long max = s.backoff().orElseThrow().max().toMillis();
    for (int i = 1; i < n && ms < max; i++) {
      ms *= 2;
    }
    return Duration.ofMillis(Math.min(ms, max));
  }

  /** {@code delay} × a factor drawn uniformly from [1 − jitter, 1 + jitter]. */
  public static Duration jittered(Duration delay, double jitter, DoubleSupplier random) {
    double factor = 1 + jitter * (2 * random.getAsDouble() - 1);
    return Duration.ofMillis(Math.round(delay.toMillis() * factor));
  }

  /** The jittered delay before the next attempt; {@code random} returns values in [0, 1). */
  public static Duration nextDelay(TaskSettings s, int attemptsMade, DoubleSupplier random) {
    return jittered(baseDelay(s, attemptsMade), s.jitter(), random);
  }

  /**
   * The delay before the next attempt when the handler asked for one ({@code Retry-After}): never
   * shorter than the configured (jittered) delay, never longer than {@link TaskSettings#MAX_DELAY}.
   * A negative request counts as none.
   */
  public static Duration requestedDelay(
      TaskSettings s, int attemptsMade, Duration requested, DoubleSupplier random) {
    Duration configured = nextDelay(s, attemptsMade, random);
    Duration d = requested.compareTo(configured) > 0 ? requested : configured;
    return d.compareTo(TaskSettings.MAX_DELAY) > 0 ? TaskSettings.MAX_DELAY : d;
  }

  /** True when another attempt is allowed after {@code attemptsMade} attempts. */
  public static boolean canRetry(TaskSettings s, int attemptsMade) {
    return attemptsMade >= 0 && attemptsMade <= s.retries();
  }
}
