package io.itemfleet.handler;

/**
 * Runs one attempt of one item. Called on a virtual thread; may block. Interrupted when the
 * attempt's timeout passes. An exception counts as a retryable failure whose class is the
 * exception's simple name (its stack trace is kept with the item's last failure).
 */
@FunctionalInterface
public interface TaskHandler {
  HandlerResult handle(TaskContext context) throws Exception;
}
