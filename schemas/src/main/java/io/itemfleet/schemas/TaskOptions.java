package io.itemfleet.schemas;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Per-message settings. An empty value means "not set here": the task type's setting, then the
 * worker default, applies. Tags are the exception: a message's tags are added to its type's.
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

  /** Most retries a message may ask for; a worker reads no more. */
  public static final int MAX_RETRIES = 1000;

  /** Longest idempotency or cache key a message may carry, filled in; a worker reads no longer. */
  public static final int MAX_KEY = 1024;

  /** Longest tag; a worker reads no longer. */
  public static final int MAX_TAG = 256;

  /**
   * The bounds are the decoder's: a message a producer builds that a worker could not read would
   * end as POISON, its job never complete.
   */
  public TaskOptions {
    retryDelays = retryDelays.map(List::copyOf);
    tags = tags.map(List::copyOf);
    if (retries.isPresent() && (retries.getAsInt() < 0 || retries.getAsInt() > MAX_RETRIES)) {
      throw new IllegalArgumentException(
          "retries must be in [0, " + MAX_RETRIES + "], was " + retries.getAsInt());
    }
    idempotencyKey.ifPresent(k -> checkKey("idempotencyKey", k));
    cacheKey.ifPresent(k -> checkKey("cacheKey", k));
    tags.ifPresent(
        list -> {
          for (String t : list) {
            if (t.isEmpty() || t.length() > MAX_TAG) {
              throw new IllegalArgumentException(
                  "a tag must be 1 to " + MAX_TAG + " characters, was " + t.length());
            }
          }
        });
    if (jitter.isPresent() && !(jitter.getAsDouble() >= 0 && jitter.getAsDouble() <= 1)) {
      throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter.getAsDouble());
    }
  }

  private static void checkKey(String name, String key) {
    if (key.isEmpty() || key.length() > MAX_KEY) {
      throw new IllegalArgumentException(
          name + " must be 1 to " + MAX_KEY + " characters, was " + key.length());
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
