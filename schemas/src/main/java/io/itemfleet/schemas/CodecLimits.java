package io.itemfleet.schemas;

/**
 * Size limits the codec enforces.
 *
 * @param maxMessageBytes largest record value accepted; larger ones are OVERSIZE poison
 * @param maxItemIdBytes largest item ID, in UTF-8 bytes
 */
public record CodecLimits(int maxMessageBytes, int maxItemIdBytes) {
  /** 1 MiB messages, 1 KiB item IDs. */
  public static final CodecLimits DEFAULTS = new CodecLimits(1 << 20, 1024);

  public CodecLimits {
    if (maxMessageBytes < 64) {
      throw new IllegalArgumentException("maxMessageBytes must be >= 64, was " + maxMessageBytes);
    }
    if (maxItemIdBytes < 1 || maxItemIdBytes > maxMessageBytes) {
      throw new IllegalArgumentException(
          "maxItemIdBytes must be in [1, maxMessageBytes="
              + maxMessageBytes
              + "], was "
              + maxItemIdBytes);
    }
  }
}
