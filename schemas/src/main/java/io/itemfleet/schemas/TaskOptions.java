package io.itemfleet.schemas;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Per-message settings. An empty value means "not set here": the task type's setting, then the
 * worker default, applies.
 */
public record TaskOptions(
    OptionalInt retries,
    Optional<List<Duration>> retryDelays,
    Optional<Backoff> backoff,
    OptionalDouble jitter,
    Optional<Duration> timeout,
    Optional<String> idempotencyKey,
    Optional<Duration> idempotencyTtl,
    Optional<String> cacheKey,
    Optional<Duration> cacheTtl,
    Optional<Boolean> persistResult,
    Optional<List<String>> tags) {

  public static final TaskOptions NONE =
      new TaskOptions(
          OptionalInt.empty(),
          Optional.empty(),
          Optional.empty(),
          OptionalDouble.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty());

  public TaskOptions {
    retryDelays = retryDelays.map(List::copyOf);
    tags = tags.map(List::copyOf);
    if (retries.isPresent() && retries.getAsInt() < 0) {
      throw new IllegalArgumentException("retries must be >= 0, was " + retries.getAsInt());
    }
    if (jitter.isPresent() && !(jitter.getAsDouble() >= 0 && jitter.getAsDouble() <= 1)) {
      throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter.getAsDouble());
    }
  }

  /** True when no option is set. */
  public boolean isEmpty() {
    return this == NONE || equals(NONE);
  }

  public TaskOptions withRetries(int n) {
    return new TaskOptions(
        OptionalInt.of(n),
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withRetryDelays(List<Duration> delays) {
    return new TaskOptions(
        retries,
        Optional.of(delays),
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withBackoff(Backoff b) {
    return new TaskOptions(
        retries,
        retryDelays,
        Optional.of(b),
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withJitter(double j) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        OptionalDouble.of(j),
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withTimeout(Duration t) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        Optional.of(t),
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withIdempotencyKey(String key) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        Optional.of(key),
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withIdempotencyTtl(Duration ttl) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        Optional.of(ttl),
        cacheKey,
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withCacheKey(String key) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        Optional.of(key),
        cacheTtl,
        persistResult,
        tags);
  }

  public TaskOptions withCacheTtl(Duration ttl) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        Optional.of(ttl),
        persistResult,
        tags);
  }

  public TaskOptions withPersistResult(boolean persist) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        Optional.of(persist),
        tags);
  }

  public TaskOptions withTags(List<String> t) {
    return new TaskOptions(
        retries,
        retryDelays,
        backoff,
        jitter,
        timeout,
        idempotencyKey,
        idempotencyTtl,
        cacheKey,
        cacheTtl,
        persistResult,
        Optional.of(t));
  }
}
