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
}
