package io.itemfleet.worker.config;

import io.itemfleet.schemas.TaskMessage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Idempotency and cache key templates such as {@code ${type}:${item}:${payloadHash}}. The variables
 * are {@code job}, {@code type}, {@code item} and {@code payloadHash} (the first 16 hex digits of
 * the SHA-256 of the payload's JSON). Filled-in values have {@code \} and {@code :} escaped ({@code
 * \\}, {@code \:}), so that ':'-separated parts cannot run into each other: job "a:b" with item "c"
 * and job "a" with item "b:c" get different keys.
 */
public final class KeyTemplate {
  private KeyTemplate() {}

  /** The variables a template may use. */
  static final Set<String> VARIABLES = Set.of("job", "type", "item", "payloadHash");

  private static final Pattern VAR = Pattern.compile("\\$\\{([^}]*)}");

  /**
   * Fails, naming the problem, on an empty template, an unknown variable, a {@code $} that does not
   * start a {@code ${name}} (a shell-style {@code $job:$item}, an unclosed {@code ${item}), and a
   * template naming neither {@code ${item}} nor {@code ${payloadHash}}. Before, the last two were
   * taken as constant text: every item of the type shared one key, and all but the first were
   * skipped (DEDUPLICATED, or CACHED) without running, for the key's TTL.
   */
  public static void validate(String template) {
    checkVariables(template); // every ${name} is known from here on
    boolean perItem = false;
    for (int i = template.indexOf('$'); i >= 0; i = template.indexOf('$', i + 1)) {
      int close = template.indexOf('}', i);
      if (i + 1 >= template.length() || template.charAt(i + 1) != '{' || close < 0) {
        throw new IllegalArgumentException(
            "'$' not followed by {name} at index "
                + i
                + " in key template '"
                + template
                + "': variables are written ${job}, ${type}, ${item}, ${payloadHash}");
      }
      String name = template.substring(i + 2, close);
      perItem |= name.equals("item") || name.equals("payloadHash");
      i = close;
    }
    if (!perItem) {
      throw new IllegalArgumentException(
          "key template '"
              + template
              + "' names neither ${item} nor ${payloadHash}: every item of the type would share"
              + " one key, and all but the first would be skipped (DEDUPLICATED or CACHED) without"
              + " running");
    }
  }

  /**
   * Fails on an empty key or an unknown {@code ${variable}}, naming it: the check every settings
   * value gets, including a message's own cache key (plain text, which may well name no item).
   */
  public static void checkVariables(String template) {
    if (template.isBlank()) throw new IllegalArgumentException("key template must not be empty");
    Matcher m = VAR.matcher(template);
    while (m.find()) {
      if (!VARIABLES.contains(m.group(1))) {
        throw new IllegalArgumentException(
            "unknown variable ${"
                + m.group(1)
                + "} in key template '"
                + template
                + "' (known: ${job}, ${type}, ${item}, ${payloadHash})");
      }
    }
  }

  /** The template with the task's values filled in. */
  public static String expand(String template, TaskMessage task) {
    if (template.equals(TaskSettings.DEFAULT_IDEMPOTENCY_KEY)) {
      return defaultKey(task.job(), task.item()); // the hot path: no regex
    }
    Matcher m = VAR.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value =
          switch (m.group(1)) {
            case "job" -> task.job();
            case "type" -> task.type();
            case "item" -> task.item();
            default -> payloadHash(task);
          };
      m.appendReplacement(out, Matcher.quoteReplacement(escape(value)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The default template, {@code ${job}:${item}}, filled in. */
  public static String defaultKey(String job, String item) {
    return escape(job) + ":" + escape(item);
  }

  /**
   * The value with {@code \} and {@code :} escaped; itself when it has neither (the usual case).
   */
  static String escape(String value) {
    if (value.indexOf(':') < 0 && value.indexOf('\\') < 0) return value;
    StringBuilder b = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == ':' || c == '\\') b.append('\\');
      b.append(c);
    }
    return b.toString();
  }

  static String payloadHash(TaskMessage task) {
    try {
      byte[] json = task.payload().toString().getBytes(StandardCharsets.UTF_8);
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(json);
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
