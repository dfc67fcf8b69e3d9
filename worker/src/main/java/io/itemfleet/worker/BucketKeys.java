package io.itemfleet.worker;

/**
 * The bucket keys of the job most recently keyed ({@link MarkerLayout} buckets), built once per
 * bucket instead of once per item: building them (a concatenation with the bucket's number) was
 * among the poll thread's largest costs per item, and a key string shared by a bucket's items keeps
 * its hash, so the gate's maps find it at once. One job is remembered, the last one keyed (a poll
 * batch is mostly one job), and only up to {@link #MAX_BUCKETS} buckets per job. Used by the poll
 * thread and, for attempts it could not key, the gate thread: a racing reader at worst builds a key
 * again (strings are safely published).
 */
final class BucketKeys {
  static final int MAX_BUCKETS = 4_096;

  private record Job(String prefix, String job, String[] keys) {}

  private volatile Job last;

  /** The key of {@code job}'s bucket {@code n} under {@code prefix}. */
  String key(MarkerLayout layout, String prefix, String job, int n) {
    if (layout.bucketsPerJob() > MAX_BUCKETS) return layout.jobBucket(prefix, job, n);
    Job j = last;
    if (j == null || !j.job().equals(job) || !j.prefix().equals(prefix)) {
      j = new Job(prefix, job, new String[layout.bucketsPerJob()]);
      last = j;
    }
    String k = j.keys()[n];
    if (k == null) {
      k = layout.jobBucket(prefix, job, n);
      j.keys()[n] = k;
    }
    return k;
  }
}
