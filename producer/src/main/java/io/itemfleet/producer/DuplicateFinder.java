package io.itemfleet.producer;

import java.util.List;

/**
 * Exact duplicate detection over a list of IDs: an open-addressing table of longs, each holding 33
 * bits of an ID's 64-bit hash (the bits that do not pick its slot) and its index in the list, so
 * that a probe touches one array, one cache line, instead of two. A hash match is confirmed by
 * comparing the strings, so a collision is never reported as a duplicate. 16 bytes per ID at the
 * table's usual load.
 */
final class DuplicateFinder {
  /** The IDs accepted so far; an entry's index points into it. */
  private final List<String> ids;

  /** Per slot: {@code tag << 31 | index}, 0 when empty (a tag is never 0). */
  private long[] table;

  /** Occupied slots. */
  private int size;

  private static final long INDEX_MASK = (1L << 31) - 1;

  DuplicateFinder(List<String> ids) {
    this(ids, 0);
  }

  /** Sized for {@code expected} IDs up front, so that it never grows (rehashes) on the way. */
  DuplicateFinder(List<String> ids, int expected) {
    this.ids = ids;
    int slots = 1 << 16;
    while (slots < 2L * expected + 2 && slots < (1 << 30)) slots <<= 1;
    table = new long[slots];
  }

  /** The 33 high bits of a hash, never 0 (its lowest bit set). */
  private static long tag(long h) {
    return (h >>> 31) | 1L;
  }

  /**
   * True when {@code id} equals an ID already added; else records {@code id}, which the caller
   * appends to the list next. One hash and one probe sequence over one array per ID.
   */
  boolean repeatElseAdd(String id) {
    long h = hash(id);
    int i = probe(id, h);
    if (i < 0) return true;
    table[i] = tag(h) << 31 | ids.size(); // the index the caller appends it at
    if (++size * 2 >= table.length) {
      grow();
    }
    return false;
  }

  /** True when {@code id} equals an ID already {@link #added}. */
  boolean isRepeat(String id) {
    return probe(id, hash(id)) < 0;
  }

  /** The empty slot where {@code id} (hash {@code h}) would go, or -1 when it is there already. */
  private int probe(String id, long h) {
    long tag = tag(h);
    int mask = table.length - 1;
    int i = (int) h & mask;
    for (long e = table[i]; e != 0; e = table[i = (i + 1) & mask]) {
      if ((e >>> 31) == tag && ids.get((int) (e & INDEX_MASK)).equals(id)) {
        return -1;
      }
    }
    return i;
  }

  /** Records the ID just appended to the list. */
  void added(String id) {
    if (size * 2 >= table.length) {
      grow();
    }
    insert(hash(id), ids.size() - 1);
    size++;
  }

  private void insert(long h, int index) {
    int mask = table.length - 1;
    int i = (int) h & mask;
    while (table[i] != 0) {
      i = (i + 1) & mask;
    }
    table[i] = tag(h) << 31 | index;
  }

  /** Doubles the table; the slot bits are not stored, so each ID's hash is computed again. */
  private void grow() {
    long[] old = table;
    table = new long[old.length * 2];
    for (long e : old) {
      if (e != 0) {
        int index = (int) (e & INDEX_MASK);
        insert(hash(ids.get(index)), index);
      }
    }
  }

  /** A 64-bit mix of the string's chars; never 0. */
  static long hash(String s) {
    long h = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * 0x100000001B3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }
}
