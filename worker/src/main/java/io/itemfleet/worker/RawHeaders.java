package io.itemfleet.worker;

import io.itemfleet.schemas.FleetHeaders;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Reads the fleet headers of fetched records without decoding every header key into a String.
 *
 * <p>The consumer keeps each header's key and value as slices of the fetched buffer; {@link
 * Header#key()} and {@link Header#value()} take a lock and decode them into a new String and a new
 * array on first read. On a noop backlog that was a quarter of a lane's time. Where the header is
 * the client's own {@link RecordHeader} and its slices are still there, this compares the key bytes
 * in place and decodes a value only when it is not one of the few recent ones; otherwise it asks
 * {@code key()} and {@code value()}. The result is the same either way ({@code RawHeadersTest}
 * checks both paths, and that the fast one is available with this client).
 */
final class RawHeaders {
  /** What {@link #kind} answers. */
  enum Kind {
    JOB,
    TYPE,
    REPLAY,
    OTHER
  }

  private static final byte[] JOB = FleetHeaders.JOB.getBytes(StandardCharsets.UTF_8);
  private static final byte[] TYPE = FleetHeaders.TYPE.getBytes(StandardCharsets.UTF_8);
  private static final byte[] REPLAY = FleetHeaders.REPLAY.getBytes(StandardCharsets.UTF_8);

  /** RecordHeader's undecoded key slice (null once decoded), or null if this client lacks it. */
  private static final VarHandle KEY_BUFFER;

  /** RecordHeader's undecoded value slice (null once copied), or null if this client lacks it. */
  private static final VarHandle VALUE_BUFFER;

  static {
    VarHandle key = null;
    VarHandle value = null;
    try {
      MethodHandles.Lookup l =
          MethodHandles.privateLookupIn(RecordHeader.class, MethodHandles.lookup());
      key = l.findVarHandle(RecordHeader.class, "keyBuffer", ByteBuffer.class);
      value = l.findVarHandle(RecordHeader.class, "valueBuffer", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      key = null; // another client version or a locked-down module: key() and value() it is
      value = null;
    }
    KEY_BUFFER = key;
    VALUE_BUFFER = value;
  }

  private RawHeaders() {}

  /** True when headers are read in place (the client has the fields this relies on). */
  static boolean inPlace() {
    return KEY_BUFFER != null && VALUE_BUFFER != null;
  }

  /** Which fleet header {@code h} is. */
  static Kind kind(Header h) {
    ByteBuffer b = h.getClass() == RecordHeader.class && inPlace() ? keyBuffer(h) : null;
    if (b == null) {
      String k = h.key();
      if (k.equals(FleetHeaders.JOB)) return Kind.JOB;
      if (k.equals(FleetHeaders.TYPE)) return Kind.TYPE;
      return k.equals(FleetHeaders.REPLAY) ? Kind.REPLAY : Kind.OTHER;
    }
    if (same(b, JOB)) return Kind.JOB;
    if (same(b, TYPE)) return Kind.TYPE;
    return same(b, REPLAY) ? Kind.REPLAY : Kind.OTHER;
  }

  /** The header's value as text; null when it has none. */
  static String value(Header h) {
    ByteBuffer b =
        h.getClass() == RecordHeader.class && inPlace()
            ? (ByteBuffer) VALUE_BUFFER.getVolatile(h)
            : null;
    if (b != null) return Recent.text(b);
    byte[] v = h.value();
    return v == null ? null : Recent.text(ByteBuffer.wrap(v));
  }

  private static ByteBuffer keyBuffer(Header h) {
    // Written in the constructor and cleared by key() under the header's lock; a record is read
    // by one thread at a time, and a cleared slice sends us to key().
    return (ByteBuffer) KEY_BUFFER.getOpaque(h);
  }

  private static boolean same(ByteBuffer b, byte[] name) {
    int n = b.remaining();
    if (n != name.length) return false;
    int p = b.position();
    for (int i = 0; i < n; i++) {
      if (b.get(p + i) != name[i]) return false;
    }
    return true;
  }

  /**
   * A few recently decoded values: a backlog carries the same few job and type names millions of
   * times, and a shared String keeps its hash for the stats. A benign race at worst decodes again.
   */
  private record Recent(byte[] bytes, String text) {
    private static final Recent[] slots = new Recent[8];

    static String text(ByteBuffer b) {
      int n = b.remaining();
      int p = b.position();
      int hash = 1;
      for (int i = 0; i < n; i++) hash = 31 * hash + b.get(p + i);
      int slot = (hash & 0x7fffffff) % slots.length;
      Recent r = slots[slot];
      if (r != null && r.bytes.length == n && r.matches(b, p)) return r.text;
      byte[] bytes = new byte[n];
      b.get(p, bytes);
      String text = new String(bytes, StandardCharsets.UTF_8);
      slots[slot] = new Recent(bytes, text);
      return text;
    }

    private boolean matches(ByteBuffer b, int p) {
      for (int i = 0; i < bytes.length; i++) {
        if (b.get(p + i) != bytes[i]) return false;
      }
      return true;
    }
  }
}
