package io.itemfleet.producer;

import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.RandomAccess;

/**
 * Item IDs as spans of the input's bytes, not strings: a checked input of a million IDs holds 8 MB
 * of spans beside its bytes instead of a million live strings, which every young collection would
 * have to copy. A string is made when an ID is read ({@link #get}), to be sent and dropped. Each
 * span packs the ID's start (32 bits), its length in bytes (31 bits) and whether it is all ASCII.
 */
final class IdSpans extends AbstractList<String> implements RandomAccess {
  /** The input's bytes; an ID's bytes are its exact UTF-8 encoding. */
  private final byte[] bytes;

  private long[] spans;
  private int size;

  IdSpans(byte[] bytes, int capacity) {
    this.bytes = bytes;
    this.spans = new long[Math.max(16, capacity)];
  }

  /** Appends the ID in {@code bytes[from, to)}. */
  void add(int from, int to, boolean ascii) {
    if (size == spans.length) spans = Arrays.copyOf(spans, spans.length * 2);
    spans[size++] = (long) from << 32 | (long) (to - from) << 1 | (ascii ? 1 : 0);
  }

  /** Appends every ID of {@code other} (over the same bytes). */
  void addAll(IdSpans other) {
    if (size + other.size > spans.length) spans = Arrays.copyOf(spans, size + other.size);
    System.arraycopy(other.spans, 0, spans, size, other.size);
    size += other.size;
  }

  /** The IDs whose index is not set in {@code drop}, in order. */
  IdSpans without(java.util.BitSet drop) {
    IdSpans kept = new IdSpans(bytes, size - drop.cardinality());
    for (int i = 0; i < size; i++) {
      if (!drop.get(i)) kept.spans[kept.size++] = spans[i];
    }
    return kept;
  }

  int start(int i) {
    return (int) (spans[i] >>> 32);
  }

  int length(int i) {
    return (int) (spans[i] & 0xffff_ffffL) >>> 1;
  }

  byte[] bytes() {
    return bytes;
  }

  /** True when IDs {@code i} and {@code j} are the same bytes, so the same string. */
  boolean same(int i, int j) {
    int a = start(i);
    int b = start(j);
    return Arrays.equals(bytes, a, a + length(i), bytes, b, b + length(j));
  }

  @Override
  public String get(int i) {
    if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i);
    boolean ascii = (spans[i] & 1) != 0;
    return new String(
        bytes, start(i), length(i), ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
  }

  @Override
  public int size() {
    return size;
  }
}
