package io.itemfleet.handler;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task type's handler keys from fleet.yaml, read with typed getters that name the key's path in
 * every error ({@code types.thumb.renderTimeout: not a duration: '5 s' ...}). The worker calls
 * {@link #rejectUnread()} after the factory's {@code create}: a key nothing read, a typo like
 * {@code widht}, fails start-up with {@code types.thumb.widht: unknown key (this handler reads:
 * url, width)}. So read every key in {@code create}, not later.
 *
 * <p>The type settings every handler shares ({@code timeout}, {@code retries}, {@code retryDelays},
 * {@code tags}, the keys and TTLs, ...) are the worker's and never reach a handler: a getter for
 * {@code timeout} here returns its default. Name a handler's own keys apart from them.
 */
public final class HandlerConfig {
  /**
   * fleet.yaml's duration notation. The schemas module's {@code Durations} parses the same; this
   * API keeps its own copy so that a handler's build depends on nothing but the JDK.
   */
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,10})(ms|s|m|h|d)");

  /** Where these keys live in fleet.yaml, e.g. {@code types.thumb}. */
  private final String path;

  /** The keys and their values, as parsed from YAML. */
  private final Map<String, Object> values;

  /** Keys a getter asked for, present or not. */
  private final Set<String> read = Collections.synchronizedSet(new LinkedHashSet<>());

  private HandlerConfig(String path, Map<String, ?> values) {
    this.path = path;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** The keys {@code values} of the type at {@code path} (e.g. {@code types.thumb}). */
  public static HandlerConfig of(String path, Map<String, ?> values) {
    return new HandlerConfig(path, values);
  }

  /** Where these keys live in fleet.yaml, e.g. {@code types.thumb}. */
  public String path() {
    return path;
  }

  public boolean has(String key) {
    read.add(key);
    return values.containsKey(key);
  }

  /** The value as YAML gave it (String, Number, Boolean, List, Map), or null. */
  public Object raw(String key) {
    read.add(key);
    return values.get(key);
  }

  /** A required, non-blank string. */
  public String string(String key) {
    Object v = raw(key);
    if (!(v instanceof String s) || s.isBlank()) {
      throw error(key, "required, a string" + (v == null ? "" : ", was " + shown(v)));
    }
    return s;
  }

  /** A string, or {@code dflt} when the key is absent. */
  public String string(String key, String dflt) {
    return has(key) ? string(key) : dflt;
  }

  /**
   * A whole number in [min, max], or {@code dflt} when absent. Compared exactly: YAML gives numbers
   * past a long as BigInteger, whose {@code longValue()} wraps ({@code 18446744073709551617} read
   * as 1 passed a [1, 10] check).
   */
  public long integer(String key, long dflt, long min, long max) {
    Object v = raw(key);
    if (v == null) return dflt;
    String range = "must be a whole number in [" + min + ", " + max + "], was ";
    if (!(v instanceof Number n)) throw error(key, range + shown(v));
    java.math.BigDecimal d;
    try {
      d = new java.math.BigDecimal(n.toString());
    } catch (NumberFormatException e) { // NaN, Infinity
      throw error(key, range + "'" + v + "'");
    }
    if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0
        || d.compareTo(java.math.BigDecimal.valueOf(min)) < 0
        || d.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
      throw error(key, range + "'" + v + "'");
    }
    return d.longValueExact();
  }

  /** A value of the wrong kind, with the kind YAML read it as: {@code '320' (String)}. */
  private static String shown(Object v) {
    return "'" + v + "' (" + v.getClass().getSimpleName() + ")";
  }

  /** A number in [min, max], or {@code dflt} when absent. */
  public double number(String key, double dflt, double min, double max) {
    Object v = raw(key);
    if (v == null) return dflt;
    if (!(v instanceof Number n)) {
      throw error(key, "must be a number in [" + min + ", " + max + "], was " + shown(v));
    }
    if (!(n.doubleValue() >= min && n.doubleValue() <= max)) {
      throw error(key, "must be a number in [" + min + ", " + max + "], was '" + v + "'");
    }
    return n.doubleValue();
  }

  /** true or false, or {@code dflt} when absent. */
  public boolean bool(String key, boolean dflt) {
    Object v = raw(key);
    if (v == null) return dflt;
    if (!(v instanceof Boolean b)) throw error(key, "must be true or false, was " + shown(v));
    return b;
  }

  /**
   * A duration in fleet.yaml's notation (a whole number and ms, s, m, h or d: {@code 250ms}, {@code
   * 5s}, {@code 7d}), or {@code dflt} when absent.
   */
  public Duration duration(String key, Duration dflt) {
    Object v = raw(key);
    if (v == null) return dflt;
    Matcher m = DURATION.matcher(String.valueOf(v).strip());
    if (!m.matches()) {
      throw error(
          key, "not a duration: '" + v + "' (a whole number and ms, s, m, h or d, e.g. 250ms, 5s)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A required list. */
  @SuppressWarnings("unchecked")
  public List<Object> list(String key) {
    Object v = raw(key);
    if (!(v instanceof List<?> l)) throw error(key, "must be a list, was '" + v + "'");
    return (List<Object>) l;
  }

  /** A list of strings, or {@code dflt} when absent. */
  public List<String> strings(String key, List<String> dflt) {
    if (!has(key)) return dflt;
    return list(key).stream().map(String::valueOf).toList();
  }

  /** A mapping (string keys), or an empty one when absent. */
  public Map<String, Object> map(String key) {
    Object v = raw(key);
    if (v == null) return Map.of();
    if (!(v instanceof Map<?, ?> m)) throw error(key, "must be a mapping, was '" + v + "'");
    Map<String, Object> out = new LinkedHashMap<>();
    m.forEach((k, val) -> out.put(String.valueOf(k), val));
    return out;
  }

  /**
   * Fails naming the first key no getter asked for (a typo, or a key of another handler), and the
   * keys this handler reads.
   *
   * @throws IllegalArgumentException {@code types.thumb.timout: unknown key (this handler reads:
   *     timeout, url)}
   */
  public void rejectUnread() {
    for (String k : values.keySet()) {
      if (!read.contains(k)) {
        throw error(
            k,
            "unknown key (this handler reads: "
                + (read.isEmpty() ? "no keys" : String.join(", ", new TreeSet<>(read)))
                + ")");
      }
    }
  }

  /** An error about {@code key}, named by its path. */
  public IllegalArgumentException error(String key, String problem) {
    return new IllegalArgumentException(path + "." + key + ": " + problem);
  }
}
