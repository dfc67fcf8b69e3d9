package io.itemfleet.worker;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * Handlers' progress checkpoints in Redis, one small value per item under its idempotency key, so a
 * retried or redelivered long item resumes where it left off. Removed when the item's done marker
 * is written; otherwise they expire with the idempotency TTL. Called from lanes (a pooled
 * connection each), only when a handler asks.
 */
final class Checkpoints implements AutoCloseable {
  /** Largest checkpoint accepted. */
  static final int MAX_BYTES = 64 * 1024;

  /** A small pool shared by all lanes (a cluster client on a Redis Cluster). */
  private final UnifiedJedis redis;

  Checkpoints(URI url) {
    this.redis = RedisClients.open(url);
  }

  Optional<String> read(String key) {
    return Optional.ofNullable(redis.get(key));
  }

  void save(String key, String value, Duration ttl) {
    if (value.length() > MAX_BYTES) {
      throw new IllegalArgumentException(
          "checkpoint of " + value.length() + " chars is over the limit of " + MAX_BYTES);
    }
    redis.set(key, value, SetParams.setParams().px(ttl.toMillis()));
  }

  @Override
  public void close() {
    redis.close();
  }
}
