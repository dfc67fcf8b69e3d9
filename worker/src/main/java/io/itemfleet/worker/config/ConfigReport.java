package io.itemfleet.worker.config;

import io.itemfleet.schemas.Durations;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@code fleet worker --print-config} shows: every task type's effective settings and where
 * each came from (fleet.yaml's type, fleet.yaml's defaults, a worker flag or environment variable,
 * or the built-in default). Message options override all of these, per message, but for tags, which
 * a message adds to its type's.
 */
public final class ConfigReport {
  private ConfigReport() {}

  /** The settings in report order; {@code retryDelays} also covers {@code backoff}. */
  static final List<String> SETTINGS =
      List.of(
          "retries",
          "retryDelays",
          "jitter",
          "timeout",
          "idempotencyTtl",
          "idempotencyKey",
          "cache",
          "persistResult",
          "tags");

  /**
   * @param workerSources for settings the worker set from a flag or the environment, where each
   *     came from (e.g. {@code retries -> "env FLEET_RETRIES"}); the rest are built-in defaults
   */
  public static String render(FleetConfig config, Map<String, String> workerSources) {
    StringBuilder out = new StringBuilder();
    Map<String, TaskSettings> rows = new LinkedHashMap<>();
    for (TaskType t : config.types().values()) rows.put(t.name(), t.settings());
    rows.put("(any other type)", config.defaults());
    for (var e : rows.entrySet()) {
      TaskType type = config.types().get(e.getKey());
      out.append("type ")
          .append(e.getKey())
          .append(type == null ? "" : " (handler " + type.handlerName() + ")")
          .append('\n');
      if (type != null) {
        for (var k : new java.util.TreeMap<>(type.handlerConfig()).entrySet()) {
          out.append(String.format("  %-15s %s%n", k.getKey(), shown(k.getKey(), k.getValue())));
        }
      }
      for (String name : SETTINGS) {
        out.append(
            String.format(
                "  %-15s %-32s %s%n",
                name.equals("retryDelays") && e.getValue().retryDelays().isEmpty()
                    ? "backoff"
                    : name,
                value(e.getValue(), name),
                source(config, e.getKey(), name, workerSources)));
      }
    }
    if (!config.limits().isEmpty()) {
      out.append("limits (fleet-wide, in Redis)\n");
      for (TagLimit l : config.limits().values()) {
        List<String> parts = new ArrayList<>();
        l.concurrency().ifPresent(c -> parts.add("concurrency " + c));
        l.ratePerSecond().ifPresent(r -> parts.add("rate " + r + "/s"));
        out.append(String.format("  %-15s %s%n", l.tag(), String.join(", ", parts)));
      }
    }
    out.append(
        "A message's options (retries, retryDelays, backoff, jitter, timeout, idempotencyKey,"
            + " idempotencyTtl, cacheKey, cacheTtl, persistResult) override these for that"
            + " message; its tags are added to its type's.\n");
    return out.toString();
  }

  /**
   * A handler setting as printed: URLs and commands with their secrets masked ({@link
   * io.itemfleet.schemas.Redaction}); every header value masked, since headers carry tokens.
   */
  static String shown(String key, Object value) {
    if (key.equals("headers") && value instanceof Map<?, ?> m) {
      Map<String, String> masked = new java.util.TreeMap<>();
      m.keySet().forEach(k -> masked.put(String.valueOf(k), io.itemfleet.schemas.Redaction.MASK));
      return masked.toString();
    }
    return io.itemfleet.schemas.Redaction.text(String.valueOf(value));
  }

  static String value(TaskSettings s, String name) {
    return switch (name) {
      case "retries" -> Integer.toString(s.retries());
      case "retryDelays" ->
          s.retryDelays().isEmpty()
              ? s.backoff()
                  .map(
                      b ->
                          "{base: "
                              + Durations.format(b.base())
                              + ", max: "
                              + Durations.format(b.max())
                              + "}")
                  .orElse("-")
              : s.retryDelays().stream()
                  .map(Durations::format)
                  .collect(Collectors.joining(", ", "[", "]"));
      case "jitter" -> Double.toString(s.jitter());
      case "timeout" -> Durations.format(s.timeout());
      case "idempotencyTtl" -> Durations.format(s.idempotencyTtl());
      case "idempotencyKey" -> s.idempotencyKey();
      case "cache" ->
          s.cacheKey()
              .map(k -> "{key: " + k + ", ttl: " + Durations.format(s.cacheTtl()) + "}")
              .orElse("off");
      case "persistResult" -> Boolean.toString(s.persistResult());
      case "tags" -> s.tags().toString();
      default -> throw new IllegalArgumentException(name);
    };
  }

  static String source(
      FleetConfig config, String type, String name, Map<String, String> workerSources) {
    if (has(config.sources().get(type), name)) return "fleet.yaml types." + type;
    if (has(config.sources().get("defaults"), name)) return "fleet.yaml defaults";
    return workerSources.getOrDefault(name, "built-in default");
  }

  private static boolean has(Map<String, Object> raw, String name) {
    if (raw == null) return false;
    return raw.containsKey(name) || (name.equals("retryDelays") && raw.containsKey("backoff"));
  }
}
