package io.itemfleet.producer;

import java.util.List;

/**
 * Exact duplicate detection over a list of IDs, in 12 bytes per ID: an open-addressing table of
 * 64-bit hashes and list indices. A hash match is confirmed by comparing the strings, so a
 * collision is never reported as a duplicate.
 */
final class DuplicateFinder {
  /** The IDs accepted so far; index {@code i} of the table points into it. */
  private final List<String> ids;

  /** Hash per slot; 0 means empty (a real hash of 0 is stored as 1). */
  private long[] hashes;

  /** Index into {@link #ids} per slot. */
  private int[] indices;

  /** Occupied slots. */
  private int size;

  DuplicateFinder(List<String> ids) {
    this(ids, 0);
  }

  /** Sized for {@code expected} IDs up front, so that it never grows (rehashes) on the way. */
  DuplicateFinder(List<String> ids, int expected) {
    this.ids = ids;
    int slots = 1 << 16;
    while (slots < 2L * expected + 2 && slots < (1 << 30)) slots <<= 1;
    hashes = new long[slots];
    indices = new int[slots];
  }

  /**
   * True when {@code id} equals an ID already added; else records {@code id}, which the caller
   * appends to the list next ({@code keep}: false when it will not, e.g. a dropped duplicate). One
   * hash and one probe per ID.
   */
  boolean repeatElseAdd(String id) {
    long h = hash(id);
    int mask = hashes.length - 1;
    int i = (int) h & mask;
    for (; hashes[i] != 0; i = (i + 1) & mask) {
      if (hashes[i] == h && ids.get(indices[i]).equals(id)) {
        return true;
      }
    }
    hashes[i] = h;
    indices[i] = ids.size(); // the index the caller appends it at
    if (++size * 2 >= hashes.length) {
      grow();
    }
    return false;
  }

  /** True when {@code id} equals an ID already {@link #added}. */
  boolean isRepeat(String id) {
    long h = hash(id);
    int mask = hashes.length - 1;
    for (int i = (int) h & mask; hashes[i] != 0; i = (i + 1) & mask) {
      if (hashes[i] == h && ids.get(indices[i]).equals(id)) {
        return true;
      }
    }
    return false;
  }

  /** Records the ID just appended to the list. */
  void added(String id) {
    if (size * 2 >= hashes.length) {
      grow();
    }
    insert(hash(id), ids.size() - 1);
    size++;
  }

  private void insert(long h, int index) {
    int mask = hashes.length - 1;
    int i = (int) h & mask;
    while (hashes[i] != 0) {
      i = (i + 1) & mask;
    }
    hashes[i] = h;
    indices[i] = index;
  }

  private void grow() {
    long[] oldHashes = hashes;
    int[] oldIndices = indices;
    hashes = new long[oldHashes.length * 2];
    indices = new int[oldIndices.length * 2];
    for (int i = 0; i < oldHashes.length; i++) {
      if (oldHashes[i] != 0) {
        insert(oldHashes[i], oldIndices[i]);
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
