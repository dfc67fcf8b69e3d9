package io.itemfleet.worker.config;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;

/**
 * A handler from a handler jar, run with the jar's class loader as its thread's context class
 * loader ({@link HandlerJars#inContext}); before, it saw the worker's, so its own services were not
 * found and the worker's were.
 */
record JarHandler(TaskHandler inner, ClassLoader loader) implements TaskHandler {
  @Override
  public HandlerResult handle(TaskContext context) throws Exception {
    return HandlerJars.inContext(loader, () -> inner.handle(context));
  }
}
