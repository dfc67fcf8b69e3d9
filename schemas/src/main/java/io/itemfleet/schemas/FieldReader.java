package io.itemfleet.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.itemfleet.schemas.DecodeError.Kind;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Reads typed fields from a JSON object, turning every problem into a {@link Rejection} that names
 * the field.
 */
final class FieldReader {
  /** The object being read. */
  private final JsonNode node;

  /** Path of {@link #node} from the message root, e.g. {@code options.}, for error messages. */
  private final String path;

  FieldReader(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** Thrown inside the codec, caught at its boundary; carries no stack trace. */
  static final class Rejection extends RuntimeException {
    final DecodeError error;

    Rejection(Kind kind, String field, String cause) {
      super(cause, null, false, false);
      this.error = new DecodeError(kind, field, cause);
    }
  }

  String field(String name) {
    return path + name;
  }

  FieldReader object(String name) {
    JsonNode v = required(name);
    if (!v.isObject()) {
      throw wrongType(name, "an object", v);
    }
    return new FieldReader(v, field(name) + ".");
  }

  Optional<FieldReader> optObject(String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isObject()) {
      throw wrongType(name, "an object", v);
    }
    return Optional.of(new FieldReader(v, field(name) + "."));
  }

  String string(String name, int maxLength) {
    return checkString(name, required(name), maxLength);
  }

  Optional<String> optString(String name, int maxLength) {
    JsonNode v = node.get(name);
    return v == null || v.isNull()
        ? Optional.empty()
        : Optional.of(checkString(name, v, maxLength));
  }

  /** A string that must be one of {@code allowed}. */
  String oneOf(String name, String... allowed) {
    String s = string(name, 64);
    for (String a : allowed) {
      if (a.equals(s)) {
        return s;
      }
    }
    throw new Rejection(
        Kind.INVALID_VALUE,
        field(name),
        "must be one of " + String.join(", ", allowed) + ", was '" + shown(s) + "'");
  }

  long integer(String name, long min, long max) {
    return checkInteger(name, required(name), min, max);
  }

  OptionalLong optInteger(String name, long min, long max) {
    JsonNode v = node.get(name);
    return v == null || v.isNull()
        ? OptionalLong.empty()
        : OptionalLong.of(checkInteger(name, v, min, max));
  }

  OptionalInt optInt(String name, int min, int max) {
    OptionalLong v = optInteger(name, min, max);
    return v.isPresent() ? OptionalInt.of((int) v.getAsLong()) : OptionalInt.empty();
  }

  OptionalDouble optNumber(String name, double min, double max) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      return OptionalDouble.empty();
    }
    if (!v.isNumber()) {
      throw wrongType(name, "a number", v);
    }
    double d = v.doubleValue();
    if (!(d >= min && d <= max)) {
      throw new Rejection(
          Kind.INVALID_VALUE, field(name), "must be in [" + min + ", " + max + "], was " + d);
    }
    return OptionalDouble.of(d);
  }

  Optional<Boolean> optBoolean(String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isBoolean()) {
      throw wrongType(name, "a boolean", v);
    }
    return Optional.of(v.booleanValue());
  }

  boolean bool(String name) {
    return optBoolean(name).orElseThrow(() -> missing(name));
  }

  Instant instant(String name) {
    return parseInstant(name, string(name, 64));
  }

  Optional<Instant> optInstant(String name) {
    return optString(name, 64).map(s -> parseInstant(name, s));
  }

  Duration duration(String name) {
    return parseDuration(name, string(name, 32));
  }

  Optional<Duration> optDuration(String name) {
    return optString(name, 32).map(s -> parseDuration(name, s));
  }

  Optional<List<Duration>> optDurations(String name) {
    return optArray(name)
        .map(
            a -> {
              List<Duration> out = new ArrayList<>(a.size());
              for (int i = 0; i < a.size(); i++) {
                String f = name + "[" + i + "]";
                JsonNode e = a.get(i);
                if (!e.isTextual()) {
                  throw wrongType(f, "a duration string", e);
                }
                out.add(parseDuration(f, e.textValue()));
              }
              if (out.isEmpty()) {
                throw new Rejection(
                    Kind.INVALID_VALUE, field(name), "must list at least one delay");
              }
              return out;
            });
  }

  Optional<List<String>> optStrings(String name, int maxLength) {
    return optArray(name)
        .map(
            a -> {
              List<String> out = new ArrayList<>(a.size());
              for (int i = 0; i < a.size(); i++) {
                out.add(checkString(name + "[" + i + "]", a.get(i), maxLength));
              }
              return out;
            });
  }

  long[] integers(String name, int size) {
    return integers(name, size, Long.MAX_VALUE);
  }

  /** An array of exactly {@code size} integers, each in [0, max]. */
  long[] integers(String name, int size, long max) {
    JsonNode a = required(name);
    if (!a.isArray()) {
      throw wrongType(name, "an array", a);
    }
    if (a.size() != size) {
      throw new Rejection(
          Kind.INVALID_VALUE, field(name), "must have " + size + " entries, had " + a.size());
    }
    long[] out = new long[size];
    for (int i = 0; i < size; i++) {
      out[i] = checkInteger(name + "[" + i + "]", a.get(i), 0, max);
    }
    return out;
  }

  Map<String, String> optStringMap(String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      return Map.of();
    }
    if (!v.isObject()) {
      throw wrongType(name, "an object", v);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      out.put(e.getKey(), checkString(name + "." + e.getKey(), e.getValue(), 4096));
    }
    return out;
  }

  /** Any JSON value, {@link NullNode} when absent. */
  JsonNode any(String name) {
    JsonNode v = node.get(name);
    return v == null ? NullNode.getInstance() : v;
  }

  private Optional<JsonNode> optArray(String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isArray()) {
      throw wrongType(name, "an array", v);
    }
    return Optional.of(v);
  }

  private JsonNode required(String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      throw missing(name);
    }
    return v;
  }

  private String checkString(String name, JsonNode v, int maxLength) {
    if (!v.isTextual()) {
      throw wrongType(name, "a string", v);
    }
    String s = v.textValue();
    if (s.isEmpty()) {
      throw new Rejection(Kind.INVALID_VALUE, field(name), "must not be empty");
    }
    if (s.length() > maxLength) {
      throw new Rejection(
          Kind.INVALID_VALUE,
          field(name),
          "is " + s.length() + " characters long, the limit is " + maxLength);
    }
    return s;
  }

  private long checkInteger(String name, JsonNode v, long min, long max) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw wrongType(name, "an integer", v);
    }
    long n = v.longValue();
    if (n < min || n > max) {
      throw new Rejection(
          Kind.INVALID_VALUE, field(name), "must be in [" + min + ", " + max + "], was " + n);
    }
    return n;
  }

  /** The earliest instant a message may carry (what PostgreSQL and every client can store). */
  static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");

  /** The latest instant a message may carry. */
  static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

  private Instant parseInstant(String name, String s) {
    Instant at;
    try {
      at = Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new Rejection(
          Kind.INVALID_VALUE, field(name), "not an ISO-8601 UTC instant: '" + shown(s) + "'");
    }
    if (at.isBefore(EARLIEST) || at.isAfter(LATEST)) {
      throw new Rejection(
          Kind.INVALID_VALUE,
          field(name),
          "must be between years 0001 and 9999, was '" + shown(s) + "'");
    }
    return at;
  }

  /**
   * Input quoted in an error, its control characters written as escapes, so the message stays text.
   */
  static String shown(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) {
        if (b == null) b = new StringBuilder(s.length() + 8).append(s, 0, i);
        b.append(String.format("\\u%04x", (int) c));
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? s : b.toString();
  }

  private Duration parseDuration(String name, String s) {
    try {
      return Durations.parse(s);
    } catch (IllegalArgumentException e) {
      throw new Rejection(Kind.INVALID_VALUE, field(name), e.getMessage());
    }
  }

  Rejection missing(String name) {
    return new Rejection(Kind.MISSING_FIELD, field(name), "is required");
  }

  private Rejection wrongType(String name, String expected, JsonNode v) {
    return new Rejection(
        Kind.WRONG_TYPE, field(name), "must be " + expected + ", was " + describe(v));
  }

  private static String describe(JsonNode v) {
    String text = v.toString();
    String shown = text.length() > 40 ? text.substring(0, 40) + "…" : text;
    return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + shown;
  }
}
