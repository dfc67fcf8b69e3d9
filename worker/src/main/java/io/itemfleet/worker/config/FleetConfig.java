package io.itemfleet.worker.config;

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
    TaskSettings defaults,
    Map<String, TaskType> types,
    Map<String, TagLimit> limits,
    Map<String, Map<String, Object>> sources) {

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
          "persistResult",
          "idempotencyKey");

  /**
   * @param sources the raw keys of {@code defaults:} (under "defaults") and of each type (under its
   *     name), so {@code --print-config} can say where each effective setting came from
   */
  public FleetConfig {
    types = Map.copyOf(types);
    limits = Map.copyOf(limits);
    sources = Map.copyOf(sources);
  }

  /** No task types: only the worker defaults. */
  public static FleetConfig empty(TaskSettings defaults) {
    return new FleetConfig(defaults, Map.of(), Map.of(), Map.of());
  }

  /**
   * The limits an item with these tags counts against, each once however often its tag is named (a
   * tag repeated in a message must not take a rate token per repetition).
   */
  public List<TagLimit> limitsFor(List<String> tags) {
    if (tags.isEmpty() || limits.isEmpty()) return List.of();
    List<TagLimit> out = new ArrayList<>();
    for (String t : tags) {
      TagLimit l = limits.get(t);
      if (l != null && !out.contains(l)) out.add(l);
    }
    return out;
  }

  /**
   * Checks that every type's idempotency TTL outlasts its longest retry schedule, so a done marker
   * cannot expire while its item may still be retried.
   */
  public void checkIdempotencyTtls() {
    check("defaults", defaults);
    types.values().forEach(t -> check("types." + t.name(), t.settings()));
  }

  private static void check(String path, TaskSettings s) {
    try {
      s.checkIdempotencyTtl();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + "." + e.getMessage());
    }
  }

  public Optional<TaskType> type(String name) {
    return Optional.ofNullable(types.get(name));
  }

  /** Reads fleet.yaml; {@code base} supplies what its {@code defaults:} leaves out. */
  public static FleetConfig load(Path file, TaskSettings base) {
    try (Reader r = Files.newBufferedReader(file)) {
      Object doc = yaml().load(r);
      checkExpandedSize(doc, file.toString());
      return parse(doc == null ? Map.of() : doc, base, file.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigException("fleet.yaml not found: " + file + " (--config, FLEET_CONFIG)");
    } catch (IOException e) {
      throw new ConfigException("cannot read fleet.yaml " + file + ": " + e);
    } catch (YAMLException e) {
      throw new ConfigException(file + " is not valid YAML: " + e.getMessage());
    }
  }

  /** Parses YAML text; for tests and embedded use. */
  public static FleetConfig parse(String yaml, TaskSettings base) {
    Object doc;
    try {
      doc = yaml().load(yaml);
    } catch (YAMLException e) {
      throw new ConfigException("fleet.yaml is not valid YAML: " + e.getMessage());
    }
    checkExpandedSize(doc, "fleet.yaml");
    return parse(doc == null ? Map.of() : doc, base, "fleet.yaml");
  }

  /**
   * A reader of plain YAML (no custom types) that refuses a key given twice in one mapping: by
   * default the last one won silently, and a type (or a setting) written twice lost its first
   * definition unseen.
   */
  private static Yaml yaml() {
    LoaderOptions o = new LoaderOptions();
    o.setAllowDuplicateKeys(false);
    return new Yaml(new SafeConstructor(o));
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
    Map<String, Map<String, Object>> sources = new LinkedHashMap<>();
    sources.put("defaults", d);
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
      sources.put(e.getKey(), entry);
      Map<String, Object> handlerConfig = new LinkedHashMap<>(entry);
      handlerConfig.keySet().removeAll(SETTING_KEYS);
      handlerConfig.remove("handler");
      types.put(
          e.getKey(), new TaskType(e.getKey(), h, handlerConfig, settings(entry, defaults, path)));
    }
    Map<String, Object> l =
        root.containsKey("limits") ? map(root.get("limits"), "limits") : Map.of();
    Map<String, TagLimit> limits = new LinkedHashMap<>();
    for (var e : l.entrySet()) {
      limits.put(e.getKey(), limit(e.getKey(), map(e.getValue(), "limits." + e.getKey())));
    }
    for (TaskType type : types.values()) {
      for (String tag : type.settings().tags()) {
        if (!limits.containsKey(tag)) {
          // A tag without a limit is allowed (a label for metrics), but say so: often a typo.
          org.slf4j.LoggerFactory.getLogger(FleetConfig.class)
              .info("types.{}.tags: '{}' has no entry under limits:", type.name(), tag);
        }
      }
    }
    return new FleetConfig(defaults, types, limits, sources);
  }

  private static TagLimit limit(String tag, Map<String, Object> m) {
    String path = "limits." + tag;
    for (String k : m.keySet()) {
      if (!k.equals("concurrency") && !k.equals("rate")) {
        throw new ConfigException(path + "." + k + ": unknown key (expected concurrency, rate)");
      }
    }
    try {
      return new TagLimit(
          tag,
          m.containsKey("concurrency")
              ? java.util.OptionalInt.of(integer(m.get("concurrency"), path + ".concurrency"))
              : java.util.OptionalInt.empty(),
          m.containsKey("rate")
              ? Optional.of(TagLimit.parseRate(String.valueOf(m.get("rate")), path + ".rate"))
              : Optional.empty());
    } catch (IllegalArgumentException e) {
      throw e instanceof ConfigException c ? c : new ConfigException(e.getMessage());
    }
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
      Optional<Cache> cache = Optional.empty();
      if (m.containsKey("cache")) {
        Map<String, Object> c = map(m.get("cache"), path + ".cache");
        for (String k : c.keySet()) {
          if (!k.equals("key") && !k.equals("ttl")) {
            throw new ConfigException(path + ".cache." + k + ": unknown key (expected key, ttl)");
          }
        }
        String key = string(c.get("key"), path + ".cache.key");
        template(key, path + ".cache.key");
        cache =
            Optional.of(
                new Cache(
                    Optional.of(key),
                    c.containsKey("ttl")
                        ? duration(c.get("ttl"), path + ".cache.ttl")
                        : base.cacheTtl()));
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
          m.containsKey("tags") ? strings(m.get("tags"), path + ".tags") : base.tags(),
          m.containsKey("idempotencyKey")
              ? template(
                  string(m.get("idempotencyKey"), path + ".idempotencyKey"),
                  path + ".idempotencyKey")
              : base.idempotencyKey(),
          cache.isPresent() ? cache.get().key() : base.cacheKey(),
          cache.isPresent() ? cache.get().ttl() : base.cacheTtl(),
          m.containsKey("persistResult")
              ? bool(m.get("persistResult"), path + ".persistResult")
              : base.persistResult());
    } catch (IllegalArgumentException e) {
      throw e instanceof ConfigException c ? c : new ConfigException(path + ": " + e.getMessage());
    }
  }

  /** A type's {@code cache:} mapping. */
  private record Cache(Optional<String> key, Duration ttl) {}

  static String string(Object o, String path) {
    if (!(o instanceof String s) || s.isBlank())
      throw new ConfigException(path + ": must be a non-empty string, was " + describe(o));
    return s;
  }

  static boolean bool(Object o, String path) {
    if (!(o instanceof Boolean b))
      throw new ConfigException(path + ": must be true or false, was " + describe(o));
    return b;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o, String path) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new ConfigException(path + ": must be a mapping, was " + describe(o));
    }
    for (var e : m.entrySet()) {
      // Before: a ClassCastException (a type named 2024) or a NullPointerException ("fleet
      // worker: null", for `headers:` left empty) instead of the setting's path.
      if (!(e.getKey() instanceof String k)) {
        throw new ConfigException(
            path
                + ": key "
                + describe(e.getKey())
                + " must be text (quote it: '"
                + e.getKey()
                + "')");
      }
      if (e.getValue() == null) {
        throw new ConfigException(path + "." + k + ": has no value (give it one, or remove it)");
      }
    }
    return (Map<String, Object>) m;
  }

  /**
   * A key template of fleet.yaml, checked as one ({@link KeyTemplate#validate}): a template every
   * item would share is refused here, naming its path. Not in {@link TaskSettings}' constructor,
   * which also takes a message's own cache key: plain text, used as it is.
   */
  private static String template(String key, String path) {
    try {
      KeyTemplate.validate(key);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
    return key;
  }

  /** Most values a fleet.yaml may stand for, each alias counted as what it stands for. */
  static final int MAX_EXPANDED_VALUES = 100_000;

  /**
   * Refuses a document whose aliases stand for more than {@link #MAX_EXPANDED_VALUES} values (a few
   * nested aliases stand for millions): before, the first error message that printed such a value
   * built megabytes of text, or ran out of memory. SnakeYAML's own limit counts aliases, not what
   * they expand to.
   */
  static void checkExpandedSize(Object doc, String where) {
    java.util.ArrayDeque<Object> todo = new java.util.ArrayDeque<>();
    todo.push(doc == null ? Map.of() : doc);
    long seen = 0;
    while (!todo.isEmpty()) {
      Object o = todo.pop();
      if (++seen > MAX_EXPANDED_VALUES) {
        throw new ConfigException(
            where
                + " expands to more than "
                + MAX_EXPANDED_VALUES
                + " values (YAML aliases within aliases); write it out instead");
      }
      if (o instanceof Map<?, ?> m) {
        for (var e : m.entrySet()) {
          if (e.getKey() != null) todo.push(e.getKey());
          if (e.getValue() != null) todo.push(e.getValue());
        }
      } else if (o instanceof java.util.Collection<?> c) {
        for (Object x : c) {
          if (x != null) todo.push(x);
        }
      }
    }
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
