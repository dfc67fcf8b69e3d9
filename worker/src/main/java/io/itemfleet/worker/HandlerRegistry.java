package io.itemfleet.worker;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Task type name → handler, built once at start-up from fleet.yaml and the factories on the class
 * path.
 */
public final class HandlerRegistry {
  /** Handler per task type. */
  private final Map<String, TaskHandler> byType;

  private HandlerRegistry(Map<String, TaskHandler> byType) {
    this.byType = Map.copyOf(byType);
  }

  /**
   * Creates every type's handler; an unknown handler name or bad handler setting fails here. {@code
   * extra} maps type names to handlers given in code (embedding, tests); they take the settings of
   * the same-named fleet.yaml type, if any.
   */
  public static HandlerRegistry create(FleetConfig config, Map<String, TaskHandler> extra) {
    Map<String, TaskHandlerFactory> factories = new LinkedHashMap<>();
    for (TaskHandlerFactory f : ServiceLoader.load(TaskHandlerFactory.class)) {
      factories.put(f.name(), f);
    }
    Map<String, TaskHandler> byType = new LinkedHashMap<>();
    for (TaskType t : config.types().values()) {
      TaskHandlerFactory f = factories.get(t.handlerName());
      if (f == null) {
        throw new ConfigException(
            "types."
                + t.name()
                + ".handler: unknown handler '"
                + t.handlerName()
                + "' (known: "
                + String.join(", ", new TreeSet<>(factories.keySet()))
                + ")");
      }
      try {
        byType.put(t.name(), f.create(t.name(), t.handlerConfig()));
      } catch (IllegalArgumentException e) {
        throw e instanceof ConfigException c
            ? c
            : new ConfigException("types." + t.name() + ": " + e.getMessage());
      }
    }
    byType.putAll(extra); // handlers given in code win over fleet.yaml's handler name
    return new HandlerRegistry(byType);
  }

  public Optional<TaskHandler> forType(String type) {
    return Optional.ofNullable(byType.get(type));
  }

  /** Known type names, for "unknown task type" errors. */
  public String knownTypes() {
    return byType.isEmpty() ? "none configured" : String.join(", ", new TreeSet<>(byType.keySet()));
  }
}
