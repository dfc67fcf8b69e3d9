package io.itemfleet.worker;

import java.time.Duration;
import java.util.Optional;

/**
 * What a handler reports for one attempt: succeeded, failed but worth retrying, or failed for good.
 */
public sealed interface HandlerResult {

  /** The item is done. {@code result} is kept only where result persistence is on. */
  record Succeeded(Optional<String> result) implements HandlerResult {}

  /**
   * The attempt failed and another may succeed.
   *
   * @param errorClass short, stable class used for grouping, e.g. {@code http.503}
   * @param after a delay the handler asks for (e.g. HTTP Retry-After), instead of the policy's
   */
  record Retry(String errorClass, String message, Optional<Duration> after)
      implements HandlerResult {}

  /** The item can never succeed; no retry. */
  record Failed(String errorClass, String message) implements HandlerResult {}

  static HandlerResult succeeded() {
    return new Succeeded(Optional.empty());
  }

  static HandlerResult retry(String errorClass, String message) {
    return new Retry(errorClass, message, Optional.empty());
  }

  static HandlerResult failed(String errorClass, String message) {
    return new Failed(errorClass, message);
  }
}
