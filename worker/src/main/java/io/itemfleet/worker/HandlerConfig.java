package io.itemfleet.worker;

import io.itemfleet.schemas.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Typed, validated reads of a handler's fleet.yaml keys; unknown keys are errors. */
final class HandlerConfig {
  /** The type's handler keys. */
  private final Map<String, Object> config;

  HandlerConfig(Map<String, Object> config, Set<String> known) {
    for (String k : config.keySet()) {
      if (!known.contains(k)) {
        throw new IllegalArgumentException(
            "unknown key '"
                + k
                + "' (this handler reads: "
                + String.join(", ", new java.util.TreeSet<>(known))
                + ")");
      }
    }
    this.config = config;
  }

  boolean has(String key) {
    return config.containsKey(key);
  }

  Object raw(String key) {
    return config.get(key);
  }

  String string(String key) {
    Object v = config.get(key);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException(key + ": required, a string");
    }
    return s;
  }

  double fraction(String key, double dflt) {
    Object v = config.get(key);
    if (v == null) return dflt;
    if (!(v instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > 1) {
      throw new IllegalArgumentException(key + ": must be a number in [0, 1], was '" + v + "'");
    }
    return n.doubleValue();
  }

  Duration duration(Object v, String key) {
    try {
      return Durations.parse(String.valueOf(v));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  List<Object> list(String key) {
    Object v = config.get(key);
    if (!(v instanceof List<?> l)) {
      throw new IllegalArgumentException(key + ": must be a list, was '" + v + "'");
    }
    return (List<Object>) l;
  }
}
