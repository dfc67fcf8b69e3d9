package io.itemfleet.worker;

/**
 * Runs one attempt of one item. Called on a virtual thread; may block. Interrupted when the
 * attempt's timeout passes. An exception counts as a retryable failure whose class is the
 * exception's simple name.
 */
@FunctionalInterface
public interface TaskHandler {
  HandlerResult handle(TaskContext context) throws Exception;
}
