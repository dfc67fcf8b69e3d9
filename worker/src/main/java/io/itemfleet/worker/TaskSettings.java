package io.itemfleet.worker;

import io.itemfleet.schemas.Backoff;
import io.itemfleet.schemas.TaskOptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The effective settings of one attempt: worker defaults, overridden by the task type in
 * fleet.yaml, overridden by the message's options. Validated on construction.
 *
 * @param retries attempts after the first
 * @param retryDelays delay before retry n is element min(n, size)-1; empty when {@code backoff}
 *     rules
 * @param backoff exponential backoff, used when {@code retryDelays} is empty
 * @param jitter delay × random in [1−jitter, 1+jitter]
 * @param timeout per attempt
 */
public record TaskSettings(
    int retries,
    List<Duration> retryDelays,
    Optional<Backoff> backoff,
    double jitter,
    Duration timeout,
    Duration idempotencyTtl,
    List<String> tags) {

  /**
   * DESIGN.md's defaults: 3 retries after 5 s, 10 s, 20 s, jitter 0.2, 30 s timeout, 7 day
   * idempotency.
   */
  public static final TaskSettings DEFAULTS =
      new TaskSettings(
          3,
          List.of(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20)),
          Optional.empty(),
          0.2,
          Duration.ofSeconds(30),
          Duration.ofDays(7),
          List.of());

  public TaskSettings {
    retryDelays = List.copyOf(retryDelays);
    tags = List.copyOf(tags);
    if (retries < 0) throw new IllegalArgumentException("retries must be >= 0, was " + retries);
    if (!(jitter >= 0 && jitter <= 1))
      throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter);
    if (retryDelays.isEmpty() && backoff.isEmpty()) {
      throw new IllegalArgumentException("retryDelays or backoff must be set");
    }
    if (retryDelays.stream().anyMatch(Duration::isNegative))
      throw new IllegalArgumentException("retryDelays must be >= 0: " + retryDelays);
    if (timeout.isNegative() || timeout.isZero())
      throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
  }

  /** These settings with the message's options laid over them. */
  public TaskSettings with(TaskOptions o) {
    if (o.isEmpty()) {
      return this;
    }
    List<Duration> delays =
        o.retryDelays().orElse(o.backoff().isPresent() ? List.of() : retryDelays);
    Optional<Backoff> b =
        o.retryDelays().isPresent() ? Optional.empty() : o.backoff().or(() -> backoff);
    return new TaskSettings(
        o.retries().orElse(retries),
        delays,
        b,
        o.jitter().orElse(jitter),
        o.timeout().orElse(timeout),
        o.idempotencyTtl().orElse(idempotencyTtl),
        o.tags().orElse(tags));
  }
}
