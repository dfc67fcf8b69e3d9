package io.itemfleet.worker;

import io.itemfleet.worker.config.KeyTemplate;

/** The names of the Redis keys the worker writes, for tools beside it ({@code fleet replay}). */
public final class RedisKeys {
  private RedisKeys() {}

  /** After the fleet's key prefix: the key of an item's lease and done marker. */
  static final String ITEM = "item:";

  /**
   * The key holding an item's lease and then its done marker, under the default idempotency key
   * ({@code ${job}:${item}}).
   *
   * @param topicPrefix the fleet's topic prefix, which also prefixes its Redis keys
   */
  public static String defaultItemKey(String topicPrefix, String job, String item) {
    return topicPrefix + ":" + ITEM + KeyTemplate.defaultKey(job, item);
  }

  /**
   * True when a stored value is the done marker of a success (SUCCEEDED or CACHED), in either
   * layout's form ({@code D|SUCCEEDED|...}, or {@code D|S|...} in buckets).
   */
  public static boolean successMarker(String value) {
    return value != null
        && (value.startsWith("D|SUCCEEDED|")
            || value.startsWith("D|CACHED|")
            || value.startsWith("D|S|")
            || value.startsWith("D|C|"));
  }
}
