package io.itemfleet.recorder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Groups failures that have the same cause: the error class plus the message with what varies from
 * item to item (the item ID, numbers, UUIDs, hex strings, quoted values) replaced by placeholders,
 * hashed to a short stable ID.
 */
public final class Fingerprint {
  private Fingerprint() {}

  private static final Pattern UUID =
      Pattern.compile(
          "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b");
  // Runs of hex digits, taken whole (possessive): which ones are masked is decided in code
  // (isHexId), not by backtracking — nested runs made one long run cost cubic time.
  private static final Pattern HEX = Pattern.compile("\\b(?:0x)?[0-9a-fA-F]++\\b");
  private static final Pattern QUOTED = Pattern.compile("'[^']*+'|\"[^\"]*+\"");
  private static final Pattern NUMBER = Pattern.compile("-?\\b\\d++(?:\\.\\d++)?\\b");

  /**
   * How much of a message is normalised: the group keeps 300 characters of the result, and a
   * handler controls the message (up to 64 KiB; 1 MiB from any Kafka client).
   */
  static final int MAX_INPUT = 4096;

  private static final Pattern SPACE = Pattern.compile("\\s+");

  /** The normalised message: stable across items that fail for the same reason. */
  public static String normalise(String message, String item) {
    String m = message.length() > MAX_INPUT ? message.substring(0, MAX_INPUT) : message;
    // A numeric item ID is masked as a number below, like every other numeric item ID, so that a
    // job of numeric IDs yields one group whatever the length of each ID.
    if (item != null && !item.isEmpty() && !item.chars().allMatch(Character::isDigit)) {
      m =
          Pattern.compile("(?<![\\w-])" + Pattern.quote(item) + "(?![\\w-])")
              .matcher(m)
              .replaceAll("<item>");
    }
    m = UUID.matcher(m).replaceAll("<uuid>");
    m = QUOTED.matcher(m).replaceAll("'…'");
    m = HEX.matcher(m).replaceAll(r -> isHexId(r.group()) ? "<hex>" : r.group());
    m = NUMBER.matcher(m).replaceAll("#");
    m = SPACE.matcher(m).replaceAll(" ").strip();
    return m.length() > 300 ? m.substring(0, 300) : m;
  }

  /**
   * A run of hex digits (maybe after {@code 0x}) masked as an ID: 8 characters or more, with a
   * digit somewhere before a letter (so words such as {@code deadbeef} or {@code cafe} stay).
   */
  private static boolean isHexId(String run) {
    if (run.length() < 8) return false;
    int from = run.startsWith("0x") ? 2 : 0;
    boolean digit = false;
    for (int i = from; i < run.length(); i++) {
      char c = run.charAt(i);
      if (c >= '0' && c <= '9') {
        digit = true;
      } else if (digit) {
        return true; // a letter after a digit
      }
    }
    return false;
  }

  /** A 12-hex-digit ID for an error class and normalised message. */
  public static String of(String errorClass, String normalised) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((errorClass + "\n" + normalised).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
