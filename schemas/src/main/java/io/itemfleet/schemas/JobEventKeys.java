package io.itemfleet.schemas;

/**
 * Record keys on the compacted {@code <prefix>.jobs} topic, where compaction keeps the last record
 * of each key. A manifest is keyed {@code RS manifest US <job> US <runId> US <type> US <count>}:
 * before 2026-11-30 it was {@code <job>/<runId>}, so job {@code a/b} run {@code c} and job {@code
 * a} run {@code b/c} shared a key (compaction kept one manifest of the two), and a run sent again
 * with another count (or type) replaced the first under compaction although the ledger keeps the
 * first: a ledger rebuilt from the topic expected another total. The recorder keeps the first
 * manifest of a run, and with the count in the key compaction keeps it too. A completion is keyed
 * per job and an item's resolution per item, each behind a prefix no job name can start with (names
 * hold no control characters), so that no two kinds share a key. Before, both were keyed by the
 * bare job: a job's resolutions replaced one another under compaction (a recorder reading late kept
 * failures open that had been resolved), and job {@code a/close}'s events replaced job {@code a}'s
 * manifest of run {@code close}.
 */
public final class JobEventKeys {
  private JobEventKeys() {}

  /** The key of a run's manifest. */
  public static String manifest(JobManifest m) {
    return "\u001emanifest\u001f"
        + m.job()
        + "\u001f"
        + m.runId()
        + "\u001f"
        + m.type()
        + "\u001f"
        + m.count();
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
