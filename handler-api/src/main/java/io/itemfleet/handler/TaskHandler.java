package io.itemfleet.handler;

/**
 * Runs one attempt of one item. Called on a virtual thread; may block. Interrupted when the
 * attempt's timeout passes; what it returns after that is discarded. An exception counts as a
 * retryable failure whose class is the exception's simple name (its stack trace is kept with the
 * item's last failure).
 *
 * <p>A worker keeps one instance per task type and calls it from many threads at once (up to its
 * concurrency): an implementation must be thread-safe. Blocking inside {@code synchronized} holds
 * the virtual thread's carrier on Java 21; prefer {@code java.util.concurrent} locks. A handler
 * that is also {@link AutoCloseable} is closed once when the worker stops, after its drain.
 */
@FunctionalInterface
public interface TaskHandler {
  HandlerResult handle(TaskContext context) throws Exception;
}
