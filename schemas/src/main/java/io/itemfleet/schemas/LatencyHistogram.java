package io.itemfleet.schemas;

import java.util.Arrays;

/**
 * Counts of handler times in fixed buckets, so histograms from many workers add up exactly. The
 * bucket upper bounds (ms) are {@link #BOUNDS_MS}, then +inf.
 */
public final class LatencyHistogram {
  /** Upper bounds of all buckets but the last, in milliseconds (inclusive). */
  public static final long[] BOUNDS_MS = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
  };

  /** Number of buckets: one per bound and one for +inf. */
  public static final int BUCKETS = BOUNDS_MS.length + 1;

  /** Count per bucket; length {@link #BUCKETS}. */
  private final long[] counts;

  private LatencyHistogram(long[] counts) {
    this.counts = counts;
  }

  public static LatencyHistogram empty() {
    return new LatencyHistogram(new long[BUCKETS]);
  }

  /** A histogram from bucket counts, validated. */
  public static LatencyHistogram of(long[] counts) {
    if (counts.length != BUCKETS) {
      throw new IllegalArgumentException(
          "latency histogram needs " + BUCKETS + " buckets, got " + counts.length);
    }
    for (long c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException(
            "latency bucket counts must be >= 0: " + Arrays.toString(counts));
      }
    }
    return new LatencyHistogram(counts.clone());
  }

  /** The bucket index for a handler time. */
  public static int bucketOf(long millis) {
    for (int i = 0; i < BOUNDS_MS.length; i++) {
      if (millis <= BOUNDS_MS[i]) {
        return i;
      }
    }
    return BOUNDS_MS.length;
  }

  /** A new histogram with one more observation. */
  public LatencyHistogram plus(long millis) {
    long[] c = counts.clone();
    c[bucketOf(millis)]++;
    return new LatencyHistogram(c);
  }

  public LatencyHistogram plus(LatencyHistogram other) {
    long[] c = counts.clone();
    for (int i = 0; i < BUCKETS; i++) {
      c[i] = OutcomeCounts.add(c[i], other.counts[i]);
    }
    return new LatencyHistogram(c);
  }

  public long count(int bucket) {
    return counts[bucket];
  }

  public long[] toArray() {
    return counts.clone();
  }

  public long total() {
    long t = 0;
    for (long c : counts) {
      t = OutcomeCounts.add(t, c); // stops at the largest long, as every sum of counts does
    }
    return t;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LatencyHistogram h && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "LatencyHistogram" + Arrays.toString(counts);
  }
}
