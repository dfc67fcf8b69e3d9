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
  private long[] hashes = new long[1 << 16];

  /** Index into {@link #ids} per slot. */
  private int[] indices = new int[1 << 16];

  /** Occupied slots. */
  private int size;

  DuplicateFinder(List<String> ids) {
    this.ids = ids;
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
