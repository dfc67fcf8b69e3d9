package io.itemfleet.worker.config;

import io.itemfleet.schemas.Backoff;
import io.itemfleet.schemas.TaskOptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The effective settings of one attempt: worker defaults, overridden by the task type in
 * fleet.yaml, overridden by the message's options (a message's tags are added to its type's, never
 * in their place). Validated on construction.
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

  /**
   * Longest retry delay (a list entry, backoff's max, a handler's Retry-After is clamped to it).
   */
  public static final Duration MAX_DELAY = Duration.ofHours(24);

  /** Longest attempt timeout. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  /** Longest idempotency or cache TTL. */
  public static final Duration MAX_TTL = Duration.ofDays(365);

  /** Most retries after the first attempt; also bounds a message's {@code attempt}. */
  public static final int MAX_RETRIES = 1000;

  /** One done marker per item per job. */
  public static final String DEFAULT_IDEMPOTENCY_KEY = "${job}:${item}";

  /**
   * The documented defaults (README, "fleet.yaml"): 3 retries after 5 s, 10 s, 20 s, jitter 0.2, 30
   * s timeout, 7 day idempotency.
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
    if (retries < 0 || retries > MAX_RETRIES)
      throw new IllegalArgumentException(
          "retries must be in [0, " + MAX_RETRIES + "], was " + retries);
    if (!(jitter >= 0 && jitter <= 1))
      throw new IllegalArgumentException("jitter must be in [0, 1], was " + jitter);
    if (retryDelays.isEmpty() && backoff.isEmpty()) {
      throw new IllegalArgumentException("retryDelays or backoff must be set");
    }
    if (retryDelays.size() > MAX_RETRIES)
      throw new IllegalArgumentException(
          "retryDelays must have at most " + MAX_RETRIES + " entries, had " + retryDelays.size());
    for (Duration d : retryDelays) {
      if (d.isNegative() || d.compareTo(MAX_DELAY) > 0)
        throw new IllegalArgumentException(
            "retryDelays must each be in [0ms, 24h], was " + text(d) + " in " + texts(retryDelays));
    }
    backoff.ifPresent(
        b -> {
          if (b.max().compareTo(MAX_DELAY) > 0)
            throw new IllegalArgumentException(
                "backoff.max must be at most 24h, was " + text(b.max()));
        });
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0)
      throw new IllegalArgumentException("timeout must be in [1ms, 24h], was " + text(timeout));
    if (idempotencyTtl.compareTo(Duration.ofSeconds(1)) < 0
        || idempotencyTtl.compareTo(MAX_TTL) > 0)
      throw new IllegalArgumentException(
          "idempotencyTtl must be in [1s, 365d], was " + text(idempotencyTtl));
    if (cacheTtl.compareTo(Duration.ofSeconds(1)) < 0 || cacheTtl.compareTo(MAX_TTL) > 0)
      throw new IllegalArgumentException("cache ttl must be in [1s, 365d], was " + text(cacheTtl));
    // Only unknown variables here: a message's own cache key (taken by with()) is plain text,
    // used as it is; fleet.yaml's templates are checked whole where they are read (FleetConfig).
    KeyTemplate.checkVariables(idempotencyKey);
    cacheKey.ifPresent(KeyTemplate::checkVariables);
  }

  private static String text(Duration d) {
    return d.isNegative() ? d.toString() : io.itemfleet.schemas.Durations.format(d);
  }

  private static String texts(List<Duration> ds) {
    return ds.stream().map(TaskSettings::text).toList().toString();
  }

  /**
   * Fails when a done marker could expire before the item's last retry: the idempotency TTL must
   * outlast {@link #longestRetrySchedule()}. Checked for fleet.yaml at start-up and for every
   * message whose options change the schedule.
   *
   * @throws IllegalArgumentException naming both durations
   */
  public void checkIdempotencyTtl() {
    Duration longest = longestRetrySchedule();
    if (idempotencyTtl.compareTo(longest) <= 0) {
      throw new IllegalArgumentException(
          "idempotencyTtl: "
              + text(idempotencyTtl)
              + " does not outlast the longest retry schedule ("
              + text(longest)
              + " for "
              + (retries + 1)
              + " attempts of up to "
              + text(timeout)
              + " with their delays); raise it or lower retries, delays or timeout");
    }
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

  /**
   * The type's tags, then those of a message's not among them. A message adds tags and never drops
   * its type's: those carry the fleet's limits (a downstream's rate, a database's connections), and
   * any producer of the topic may set a message's options — {@code "tags": []} used to lift them.
   */
  private List<String> withTags(List<String> added) {
    if (added.isEmpty() || tags.containsAll(added)) return tags;
    java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(tags);
    all.addAll(added);
    return List.copyOf(all);
  }

  /** These settings with the message's options laid over them (a message's tags add to these). */
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
        o.tags().map(this::withTags).orElse(tags),
        idempotencyKey,
        o.cacheKey().isPresent() ? o.cacheKey() : cacheKey,
        o.cacheTtl().orElse(cacheTtl),
        o.persistResult().orElse(persistResult));
  }
}
