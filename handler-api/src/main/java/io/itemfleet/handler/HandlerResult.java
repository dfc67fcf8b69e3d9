package io.itemfleet.handler;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a handler reports for one attempt: succeeded, failed but worth retrying, or failed for good.
 */
public sealed interface HandlerResult {

  /** The item is done. {@code result} is kept only where result persistence is on. */
  record Succeeded(Optional<String> result) implements HandlerResult {
    public Succeeded {
      Objects.requireNonNull(result, "result");
    }
  }

  /**
   * The attempt failed and another may succeed.
   *
   * @param errorClass short, stable class used for grouping, e.g. {@code http.503}
   * @param after a delay the handler asks for (e.g. HTTP Retry-After), clamped by the worker to
   *     [the configured delay, 24 h]
   */
  record Retry(String errorClass, String message, Optional<Duration> after)
      implements HandlerResult {
    public Retry {
      Objects.requireNonNull(errorClass, "errorClass");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(after, "after");
    }
  }

  /** The item can never succeed; no retry. */
  record Failed(String errorClass, String message) implements HandlerResult {
    public Failed {
      Objects.requireNonNull(errorClass, "errorClass");
      Objects.requireNonNull(message, "message");
    }
  }

  static HandlerResult succeeded() {
    return new Succeeded(Optional.empty());
  }

  /** Succeeded with a small result, kept with a cache entry where the type persists results. */
  static HandlerResult succeeded(String result) {
    return new Succeeded(Optional.of(result));
  }

  static HandlerResult retry(String errorClass, String message) {
    return new Retry(errorClass, message, Optional.empty());
  }

  static HandlerResult retryAfter(String errorClass, String message, Duration after) {
    return new Retry(errorClass, message, Optional.of(after));
  }

  static HandlerResult failed(String errorClass, String message) {
    return new Failed(errorClass, message);
  }
}
