package io.itemfleet.schemas;

/**
 * Record keys on the compacted {@code <prefix>.jobs} topic, where compaction keeps the last record
 * of each key. A manifest is keyed {@code <job>/<runId>} (one per run). A completion is keyed per
 * job and an item's resolution per item, each behind a prefix no job name can start with (names
 * hold no control characters), so that no two kinds share a key. Before, both were keyed by the
 * bare job: a job's resolutions replaced one another under compaction (a recorder reading late kept
 * failures open that had been resolved), and job {@code a/close}'s events replaced job {@code a}'s
 * manifest of run {@code close}.
 */
public final class JobEventKeys {
  private JobEventKeys() {}

  /** The key of a run's manifest. */
  public static String manifest(String job, String runId) {
    return job + "/" + runId;
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
