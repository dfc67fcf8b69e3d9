package io.itemfleet.handler;

/**
 * Makes the handler a task type names in fleet.yaml ({@code handler: NAME}). Implementations are
 * found with {@link java.util.ServiceLoader}: list them in {@code
 * META-INF/services/io.itemfleet.handler.TaskHandlerFactory}, in the worker's class path or in a
 * jar under {@code fleet worker --handlers DIR}.
 */
public interface TaskHandlerFactory {
  /** The name used in fleet.yaml, e.g. {@code thumbnail}. */
  String name();

  /**
   * A handler for task type {@code type}, configured by the type's handler keys (everything in its
   * fleet.yaml entry that is not a common setting). Read them with {@code config}'s typed getters,
   * then call {@link HandlerConfig#rejectUnread()}: a key the handler did not read (a typo) then
   * fails start-up with its path.
   *
   * @throws IllegalArgumentException naming the key and value when the configuration is wrong
   */
  TaskHandler create(String type, HandlerConfig config);
}
