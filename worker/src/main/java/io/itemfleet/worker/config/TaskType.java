package io.itemfleet.worker.config;

import java.util.Map;

/**
 * One task type from fleet.yaml.
 *
 * @param handlerName the {@code handler:} key
 * @param handlerConfig the type's keys that are not common settings, for the handler factory
 * @param settings defaults overridden by this type's settings
 */
public record TaskType(
    String name, String handlerName, Map<String, Object> handlerConfig, TaskSettings settings) {
  public TaskType {
    handlerConfig = Map.copyOf(handlerConfig);
  }
}
