package io.itemfleet.worker;

import io.itemfleet.schemas.Backoff;
import io.itemfleet.schemas.Durations;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * fleet.yaml: worker-wide defaults, task types and fleet-wide limits. Parsed and validated once; a
 * bad key or value fails start-up with its path, e.g. {@code types.sim.retries: must be >= 0}.
 */
public record FleetConfig(
    TaskSettings defaults, Map<String, TaskType> types, Map<String, Object> limits) {

  /** Keys common to defaults and types; any other key of a type goes to its handler. */
  static final Set<String> SETTING_KEYS =
      Set.of(
          "retries",
          "retryDelays",
          "backoff",
          "jitter",
          "timeout",
          "idempotencyTtl",
          "tags",
          "cache",
          "persistResult");

  public FleetConfig {
    types = Map.copyOf(types);
    limits = Map.copyOf(limits);
  }

  /** No task types: only the worker defaults. */
  public static FleetConfig empty(TaskSettings defaults) {
    return new FleetConfig(defaults, Map.of(), Map.of());
  }

  public Optional<TaskType> type(String name) {
    return Optional.ofNullable(types.get(name));
  }

  /** Reads fleet.yaml; {@code base} supplies what its {@code defaults:} leaves out. */
  public static FleetConfig load(Path file, TaskSettings base) {
    try (Reader r = Files.newBufferedReader(file)) {
      Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
      return parse(doc == null ? Map.of() : doc, base, file.toString());
    } catch (IOException e) {
      throw new ConfigException("cannot read FLEET_CONFIG " + file + ": " + e.getMessage());
    } catch (YAMLException e) {
      throw new ConfigException(file + " is not valid YAML: " + e.getMessage());
    }
  }

  /** Parses YAML text; for tests and embedded use. */
  public static FleetConfig parse(String yaml, TaskSettings base) {
    Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    return parse(doc == null ? Map.of() : doc, base, "fleet.yaml");
  }

  private static FleetConfig parse(Object doc, TaskSettings base, String where) {
    Map<String, Object> root = map(doc, where);
    for (String k : root.keySet()) {
      if (!Set.of("defaults", "types", "limits").contains(k)) {
        throw new ConfigException(
            where + ": unknown top-level key '" + k + "' (expected defaults, types, limits)");
      }
    }
    Map<String, Object> d =
        root.containsKey("defaults") ? map(root.get("defaults"), "defaults") : Map.of();
    for (String k : d.keySet()) {
      if (!SETTING_KEYS.contains(k)) {
        throw new ConfigException(
            "defaults."
                + k
                + ": unknown setting (known: "
                + String.join(", ", new java.util.TreeSet<>(SETTING_KEYS))
                + ")");
      }
    }
    TaskSettings defaults = settings(d, base, "defaults");
    Map<String, TaskType> types = new LinkedHashMap<>();
    Map<String, Object> t = root.containsKey("types") ? map(root.get("types"), "types") : Map.of();
    for (var e : t.entrySet()) {
      String path = "types." + e.getKey();
      Map<String, Object> entry = map(e.getValue(), path);
      Object handler = entry.get("handler");
      if (!(handler instanceof String h) || h.isBlank()) {
        throw new ConfigException(
            path + ".handler: required (a handler name such as http, exec, simulate)");
      }
      Map<String, Object> handlerConfig = new LinkedHashMap<>(entry);
      handlerConfig.keySet().removeAll(SETTING_KEYS);
      handlerConfig.remove("handler");
      types.put(
          e.getKey(), new TaskType(e.getKey(), h, handlerConfig, settings(entry, defaults, path)));
    }
    Map<String, Object> limits =
        root.containsKey("limits") ? map(root.get("limits"), "limits") : Map.of();
    return new FleetConfig(defaults, types, limits);
  }

  /** {@code base} with the settings of {@code m} laid over it. */
  static TaskSettings settings(Map<String, Object> m, TaskSettings base, String path) {
    try {
      List<Duration> delays = base.retryDelays();
      Optional<Backoff> backoff = base.backoff();
      if (m.containsKey("retryDelays") && m.containsKey("backoff")) {
        throw new ConfigException(path + ": set retryDelays or backoff, not both");
      }
      if (m.containsKey("retryDelays")) {
        delays = durations(m.get("retryDelays"), path + ".retryDelays");
        backoff = Optional.empty();
      }
      if (m.containsKey("backoff")) {
        Map<String, Object> b = map(m.get("backoff"), path + ".backoff");
        backoff =
            Optional.of(
                new Backoff(
                    duration(b.get("base"), path + ".backoff.base"),
                    duration(b.get("max"), path + ".backoff.max")));
        delays = List.of();
      }
      return new TaskSettings(
          m.containsKey("retries") ? integer(m.get("retries"), path + ".retries") : base.retries(),
          delays,
          backoff,
          m.containsKey("jitter") ? number(m.get("jitter"), path + ".jitter") : base.jitter(),
          m.containsKey("timeout") ? duration(m.get("timeout"), path + ".timeout") : base.timeout(),
          m.containsKey("idempotencyTtl")
              ? duration(m.get("idempotencyTtl"), path + ".idempotencyTtl")
              : base.idempotencyTtl(),
          m.containsKey("tags") ? strings(m.get("tags"), path + ".tags") : base.tags());
    } catch (IllegalArgumentException e) {
      throw e instanceof ConfigException c ? c : new ConfigException(path + ": " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o, String path) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new ConfigException(path + ": must be a mapping, was " + describe(o));
    }
    return (Map<String, Object>) m;
  }

  static Duration duration(Object o, String path) {
    if (o == null) throw new ConfigException(path + ": required");
    try {
      return Durations.parse(String.valueOf(o));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }

  static List<Duration> durations(Object o, String path) {
    if (!(o instanceof List<?> l) || l.isEmpty()) {
      throw new ConfigException(
          path + ": must be a non-empty list of durations like [5s, 10s], was " + describe(o));
    }
    List<Duration> out = new ArrayList<>();
    for (int i = 0; i < l.size(); i++) out.add(duration(l.get(i), path + "[" + i + "]"));
    return out;
  }

  static int integer(Object o, String path) {
    if (!(o instanceof Integer i))
      throw new ConfigException(path + ": must be a whole number, was " + describe(o));
    return i;
  }

  static double number(Object o, String path) {
    if (!(o instanceof Number n))
      throw new ConfigException(path + ": must be a number, was " + describe(o));
    return n.doubleValue();
  }

  static List<String> strings(Object o, String path) {
    if (!(o instanceof List<?> l))
      throw new ConfigException(path + ": must be a list, was " + describe(o));
    return l.stream().map(String::valueOf).toList();
  }

  static String describe(Object o) {
    return o == null ? "nothing" : "'" + o + "' (" + o.getClass().getSimpleName() + ")";
  }
}
