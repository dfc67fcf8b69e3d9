package io.itemfleet.schemas;

import java.util.Optional;

/**
 * What a job or task type name may be: 1 to {@value #MAX_LENGTH} characters, no control characters
 * (C0, DEL, C1), no bidirectional overrides and no unpaired surrogates. Such names are printed on
 * terminals, shown in pages and used in copy-paste commands, so the rule is checked where a name
 * enters: at {@code fleet produce}, in {@link TaskMessage}, and when a worker decodes a record.
 */
public final class Names {
  /** Longest job or type name, in characters. */
  public static final int MAX_LENGTH = 256;

  private Names() {}

  /** Why {@code value} cannot be a {@code what} ("job", "type") name; empty when it can. */
  public static Optional<String> problem(String what, String value) {
    if (value.isEmpty() || value.length() > MAX_LENGTH) {
      return Optional.of(
          "the "
              + what
              + " name must be 1 to "
              + MAX_LENGTH
              + " characters, was "
              + value.length());
    }
    int lone = unpairedSurrogate(value);
    if (lone >= 0) {
      return Optional.of(
          "the "
              + what
              + " name contains an unpaired surrogate U+"
              + String.format("%04X", (int) value.charAt(lone))
              + " at index "
              + lone
              + " (not text: stored or keyed, it would become '?')");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (isControl(c)) {
        return Optional.of(
            "the "
                + what
                + " name contains control character U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i);
      }
      if (c == REPLACEMENT) {
        return Optional.of(
            "the "
                + what
                + " name contains U+FFFD, the replacement character, at index "
                + i
                + " (bytes that were not UTF-8 somewhere on its way: 'caf\\xE9' and 'caf\\xE8'"
                + " would be one job)");
      }
    }
    return Optional.empty();
  }

  /**
   * The index of the first UTF-16 surrogate without its pair in {@code s}, or -1. JSON's {@code
   * \\uD800} escapes can make one; UTF-8 cannot encode it, so two strings differing only in one
   * would be the same bytes (each becomes '?') in Redis keys and the ledger.
   */
  public static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** U+FFFD, what a lenient decoder puts in place of bytes that are not UTF-8 (names only). */
  static final char REPLACEMENT = '\uFFFD';

  /**
   * True for a character no name or item ID may hold: a control character (C0, DEL, C1) or a
   * bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069), which would make printed
   * names and IDs read differently from what they are.
   */
  public static boolean isControl(char c) {
    return Character.isISOControl(c)
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069);
  }
}
