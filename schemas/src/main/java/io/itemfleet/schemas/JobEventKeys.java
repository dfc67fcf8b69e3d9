package io.itemfleet.schemas;

/**
 * Record keys on the compacted {@code <prefix>.jobs} topic, where compaction keeps the last record
 * of each key. A manifest is keyed {@code RS manifest US <job> US <runId>}: before 2026-11-30 it
 * was {@code <job>/<runId>}, so job {@code a/b} run {@code c} and job {@code a} run {@code b/c}
 * shared a key (compaction kept one manifest of the two). Every manifest of one run shares its key,
 * and so its partition: the recorder reads them in order and keeps the first (a later one with
 * another count is ignored with a warning); compaction keeps the last, so a ledger rebuilt from a
 * compacted topic would take that one. A completion is keyed per job and an item's resolution per
 * item, each behind a prefix no job name can start with (names hold no control characters), so that
 * no two kinds share a key. Before, both were keyed by the bare job: a job's resolutions replaced
 * one another under compaction (a recorder reading late kept failures open that had been resolved),
 * and job {@code a/close}'s events replaced job {@code a}'s manifest of run {@code close}.
 */
public final class JobEventKeys {
  private JobEventKeys() {}

  /** The key of a run's manifest. */
  public static String manifest(JobManifest m) {
    // Not the count or type: every manifest of one run must share a key, and so a partition, so
    // that the recorder reads them in the order they were sent and keeps the first.
    return "\u001emanifest\u001f" + m.job() + "\u001f" + m.runId();
  }

  /** The key of a job's completion event. */
  public static String completed(String job) {
    return "\u001ecompleted\u001f" + job;
  }

  /** The key of an item's resolution. */
  public static String resolved(String job, String item) {
    return "\u001eresolved\u001f" + job + "\u001f" + item;
  }
}
