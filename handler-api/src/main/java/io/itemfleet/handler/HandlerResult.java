package io.itemfleet.handler;

import java.time.Duration;
import java.util.Optional;

/**
 * What a handler reports for one attempt: succeeded, failed but worth retrying, or failed for good.
 */
public sealed interface HandlerResult {

  /**
   * The item is done. {@code result} is kept only where result persistence is on; a null one is
   * none.
   */
  record Succeeded(Optional<String> result) implements HandlerResult {
    public Succeeded {
      result = result == null ? Optional.empty() : result;
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
    /**
     * A missing or blank {@code errorClass} becomes {@code handler.retry}, a null {@code message}
     * (an exception's {@code getMessage()}) "".
     */
    public Retry {
      errorClass = errorClass == null || errorClass.isBlank() ? "handler.retry" : errorClass;
      message = message == null ? "" : message;
      after = after == null ? Optional.empty() : after;
    }
  }

  /** The item can never succeed; no retry. */
  record Failed(String errorClass, String message) implements HandlerResult {
    /**
     * A missing or blank {@code errorClass} becomes {@code handler.failed}, a null {@code message}
     * "": before, {@code failed(cls, e.getMessage())} with a null message threw in the handler, and
     * a blank class was refused later, so the item was retried although the handler said it never
     * should be.
     */
    public Failed {
      errorClass = errorClass == null || errorClass.isBlank() ? "handler.failed" : errorClass;
      message = message == null ? "" : message;
    }
  }

  static HandlerResult succeeded() {
    return new Succeeded(Optional.empty());
  }

  /**
   * Succeeded with a small result, kept with a cache entry where the type persists results; {@code
   * null} is no result. Before, {@code succeeded(resp.header("ETag"))} with the header missing
   * threw in the handler: work already done was retried, and in the end FAILED.
   */
  static HandlerResult succeeded(String result) {
    return new Succeeded(Optional.ofNullable(result));
  }

  static HandlerResult retry(String errorClass, String message) {
    return new Retry(errorClass, message, Optional.empty());
  }

  /** A retry after {@code after} at the earliest; {@code null} is the configured delay. */
  static HandlerResult retryAfter(String errorClass, String message, Duration after) {
    return new Retry(errorClass, message, Optional.ofNullable(after));
  }

  static HandlerResult failed(String errorClass, String message) {
    return new Failed(errorClass, message);
  }
}
