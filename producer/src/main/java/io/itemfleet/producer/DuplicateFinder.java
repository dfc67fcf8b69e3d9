package io.itemfleet.producer;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Exact duplicate detection over a list of IDs, in input order: the first copy of an ID is never a
 * repeat, every later copy is. A hash match is confirmed by comparing the strings, so a collision
 * is never reported as a duplicate.
 *
 * <p>One table for a million IDs would be 16 MiB, far larger than the CPU's caches and TLB, so
 * nearly every probe would wait for memory (~150 ns per ID measured). Instead the IDs are split by
 * the top bits of their 64-bit hash into partitions of a few thousand, kept in input order, and
 * each partition is checked with its own small open-addressing table that stays in cache: equal IDs
 * have equal hashes, so they always meet in the same partition.
 *
 * <p>The hash is seeded at random for each check. Unseeded, its steps can be run backwards, so a
 * file of IDs that all share one hash is easy to make (printable ones take a few thousand tries
 * each); they would all fall into one partition and one probe chain, and the check would take time
 * quadratic in their number. Without the seed, no such file can be made in advance.
 */
final class DuplicateFinder {
  private DuplicateFinder() {}

  /** The indexes of the IDs in {@code ids} equal to one earlier in the list. */
  static BitSet repeats(IdSpans ids) {
    return repeats(ids, TwoThreads.worthIt(ids.size()));
  }

  /**
   * The same, on two threads when {@code parallel}: the hashing split by halves of the list, the
   * partitions' checks split by halves of the partitions (a partition is checked by one thread).
   */
  static BitSet repeats(IdSpans ids, boolean parallel) {
    int n = ids.size();
    if (n < 2) return new BitSet();
    // About 4,096 IDs per partition, at most 2^16 partitions.
    int bits = Math.max(0, Math.min(16, 32 - Integer.numberOfLeadingZeros(n >>> 12)));
    int partitions = 1 << bits;
    long[] hashes = new long[n];
    long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    TwoThreads.run(
        parallel,
        () -> hashAll(ids, hashes, seed, 0, n / 2),
        () -> hashAll(ids, hashes, seed, n / 2, n));
    int[] starts = new int[partitions + 1]; // starts[p]: where partition p begins in byPartition
    for (long h : hashes) starts[partition(h, bits) + 1]++;
    for (int p = 0; p < partitions; p++) starts[p + 1] += starts[p];
    int[] fill = starts.clone();
    int[] byPartition = new int[n]; // indexes, grouped by partition, in input order within each
    for (int i = 0; i < n; i++) byPartition[fill[partition(hashes[i], bits)]++] = i;
    int middle = 0; // the first partition of the second half, by IDs
    while (middle < partitions && starts[middle] < n / 2) middle++;
    int split = middle;
    BitSet first = new BitSet();
    BitSet second = new BitSet();
    TwoThreads.run(
        parallel,
        () -> check(ids, hashes, byPartition, starts, 0, split, first),
        () -> check(ids, hashes, byPartition, starts, split, partitions, second));
    first.or(second);
    return first;
  }

  private static void hashAll(IdSpans ids, long[] hashes, long seed, int from, int to) {
    byte[] b = ids.bytes();
    for (int i = from; i < to; i++) hashes[i] = hash(seed, b, ids.start(i), ids.length(i));
  }

  /** Checks partitions {@code [fromP, toP)}, each with a small table, marking repeats. */
  private static void check(
      IdSpans ids,
      long[] hashes,
      int[] byPartition,
      int[] starts,
      int fromP,
      int toP,
      BitSet repeats) {
    int largest = 0;
    for (int p = fromP; p < toP; p++) largest = Math.max(largest, starts[p + 1] - starts[p]);
    int slots = 16;
    while (slots < 2 * largest) slots <<= 1;
    int[] table = new int[slots]; // index + 1 of an ID, 0 for an empty slot
    for (int p = fromP; p < toP; p++) {
      int from = starts[p];
      int to = starts[p + 1];
      int cap = 16;
      while (cap < 2 * (to - from)) cap <<= 1;
      int mask = cap - 1;
      Arrays.fill(table, 0, cap, 0);
      for (int k = from; k < to; k++) {
        int i = byPartition[k];
        long h = hashes[i];
        int s = (int) h & mask;
        for (int e = table[s]; e != 0; e = table[s = (s + 1) & mask]) {
          if (hashes[e - 1] == h && ids.same(e - 1, i)) {
            repeats.set(i);
            s = -1;
            break;
          }
        }
        if (s >= 0) table[s] = i + 1;
      }
    }
  }

  /** The partition of a hash: its top {@code bits} bits (the table uses the low ones). */
  private static int partition(long h, int bits) {
    return bits == 0 ? 0 : (int) (h >>> (64 - bits));
  }

  /** A 64-bit mix, under {@code seed}, of the bytes {@code b[from, from + length)}; never 0. */
  static long hash(long seed, byte[] b, int from, int length) {
    long h = 0x9E3779B97F4A7C15L ^ length ^ seed;
    int i = from;
    int end = from + length;
    for (; i + 8 <= end; i += 8) {
      h = (h ^ (long) LONGS.get(b, i)) * 0x9E3779B97F4A7C15L;
      h ^= h >>> 29;
    }
    for (; i < end; i++) {
      h = (h ^ b[i]) * 0x100000001B3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }

  /** Reads 8 bytes at once, in any alignment. */
  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
}
