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
 * @param idempotencyTtl how long a done marker lasts in Redis
 * @param tags names of fleet-wide limits (fleet.yaml {@code limits:}) this item counts against
 * @param idempotencyKey template of the idempotency key; {@link #DEFAULT_IDEMPOTENCY_KEY} when
 *     unset
 * @param cacheKey template of the cache key, when the type caches results
 * @param cacheTtl how long a cache entry lasts
 * @param persistResult whether the handler's result is stored with the cache entry
 */
public record TaskSettings(
    int retries,
    List<Duration> retryDelays,
    Optional<Backoff> backoff,
    double jitter,
    Duration timeout,
    Duration idempotencyTtl,
    List<String> tags,
    String idempotencyKey,
    Optional<String> cacheKey,
    Duration cacheTtl,
    boolean persistResult) {

  /** One done marker per item per job. */
  public static final String DEFAULT_IDEMPOTENCY_KEY = "${job}:${item}";

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
          List.of(),
          DEFAULT_IDEMPOTENCY_KEY,
          Optional.empty(),
          Duration.ofDays(1),
          false);

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
    if (idempotencyTtl.compareTo(Duration.ofSeconds(1)) < 0)
      throw new IllegalArgumentException("idempotencyTtl must be >= 1s, was " + idempotencyTtl);
    if (cacheTtl.compareTo(Duration.ofSeconds(1)) < 0)
      throw new IllegalArgumentException("cache ttl must be >= 1s, was " + cacheTtl);
    KeyTemplate.validate(idempotencyKey);
    cacheKey.ifPresent(KeyTemplate::validate);
  }

  /**
   * The longest a retry chain can take, first attempt to last: every attempt timing out and every
   * delay at its jittered maximum. The idempotency TTL must outlast it.
   */
  public Duration longestRetrySchedule() {
    Duration total = timeout.multipliedBy(retries + 1L);
    for (int n = 1; n <= retries; n++) {
      Duration d = RetryPolicy.baseDelay(this, n);
      total = total.plusMillis((long) Math.ceil(d.toMillis() * (1 + jitter)));
    }
    return total;
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
        o.tags().orElse(tags),
        idempotencyKey,
        o.cacheKey().isPresent() ? o.cacheKey() : cacheKey,
        o.cacheTtl().orElse(cacheTtl),
        o.persistResult().orElse(persistResult));
  }
}
