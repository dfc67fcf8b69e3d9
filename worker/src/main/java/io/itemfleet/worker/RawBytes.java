package io.itemfleet.worker;

import java.nio.charset.StandardCharsets;
import redis.clients.jedis.args.Rawable;

/**
 * Bytes handed to Jedis as a command argument as they are. Jedis copies every {@code byte[]}
 * argument it is given (a defensive copy); on the buckets layout's fast path that copying of keys,
 * fields and markers was the gate thread's largest allocation per item. The array is never changed
 * after it is built, by its maker or by Jedis, which only writes it to the connection.
 */
final class RawBytes implements Rawable {
  private final byte[] raw;

  private RawBytes(byte[] raw) {
    this.raw = raw;
  }

  /** Wraps {@code raw}, which the caller must never change afterwards. */
  static RawBytes of(byte[] raw) {
    return new RawBytes(raw);
  }

  static RawBytes utf8(String s) {
    return new RawBytes(s.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] getRaw() {
    return raw;
  }
}
