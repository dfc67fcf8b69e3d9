package io.itemfleet.worker;

import java.util.Map;

/**
 * Makes the handler a task type names in fleet.yaml ({@code handler: NAME}). Implementations are
 * found with {@link java.util.ServiceLoader}: list them in {@code
 * META-INF/services/io.itemfleet.worker.TaskHandlerFactory}.
 */
public interface TaskHandlerFactory {
  /** The name used in fleet.yaml, e.g. {@code http}. */
  String name();

  /**
   * A handler for task type {@code type} configured by the type's handler keys (everything in its
   * fleet.yaml entry that is not a common setting).
   *
   * @throws IllegalArgumentException naming the key and value when the configuration is wrong
   */
  TaskHandler create(String type, Map<String, Object> config);
}
