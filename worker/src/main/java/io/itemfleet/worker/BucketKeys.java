package io.itemfleet.worker;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The bucket keys of recent jobs ({@link MarkerLayout} buckets), built once per bucket instead of
 * once per item: building them (a concatenation with the bucket's number) was among the poll
 * thread's largest costs per item, and a key string shared by a bucket's items keeps its hash, so
 * the gate's maps find it at once; its bytes are encoded once too. Up to {@link #MAX_KEYS} keys of
 * recent jobs are remembered (64 jobs of the default 256 buckets; all forgotten when full:
 * forgetting costs only building keys again, and at most a few MB are held), and only layouts of up
 * to {@link #MAX_BUCKETS} buckets per job. One instance serves one prefix and one layout (its
 * gate's). Used by the poll thread and, for attempts it could not key, the gate thread: a racing
 * reader at worst builds a key again (keys are records of final fields, safely published).
 */
final class BucketKeys {
  static final int MAX_BUCKETS = 4_096;

  /** Most keys remembered, all jobs together: jobs × buckets per job. */
  static final int MAX_KEYS = 16_384;

  /** A bucket's key, as text and as the bytes a pipeline sends. */
  record Key(String text, RawBytes bytes) {}

  private record Job(String job, Key[] keys) {}

  private final ConcurrentHashMap<String, Key[]> byJob = new ConcurrentHashMap<>();

  /** The job keyed last: most items are of the same job as the one before, no map lookup then. */
  private volatile Job last;

  /** The key of {@code job}'s bucket {@code n} under {@code prefix} (one prefix per instance). */
  Key key(MarkerLayout layout, String prefix, String job, int n) {
    if (layout.bucketsPerJob() > MAX_BUCKETS) return built(layout.jobBucket(prefix, job, n));
    Job j = last;
    Key[] keys;
    if (j != null && j.job().equals(job)) {
      keys = j.keys();
    } else {
      keys = byJob.get(job);
      if (keys == null) {
        if (byJob.size() >= Math.max(1, MAX_KEYS / layout.bucketsPerJob())) byJob.clear();
        keys = byJob.computeIfAbsent(job, x -> new Key[layout.bucketsPerJob()]);
      }
      last = new Job(job, keys);
    }
    Key k = keys[n];
    if (k == null) {
      k = built(layout.jobBucket(prefix, job, n));
      keys[n] = k;
    }
    return k;
  }

  private static Key built(String key) {
    return new Key(key, RawBytes.utf8(key));
  }
}
