package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** No two kinds of record on the compacted jobs topic share a key, whatever the names. */
class JobEventKeysTest {
  @Test
  void completionsAndResolutionsNeverTakeAManifestsKeyOrEachOthers() {
    for (String job : List.of("a", "a/close", "completed", "resolved", "a/b/c")) {
      for (String runOrItem : List.of("close", "b/c", "x", "completed")) {
        String manifest = JobEventKeys.manifest(manifest(job, runOrItem, 5));
        assertThat(JobEventKeys.completed(job)).isNotEqualTo(manifest);
        assertThat(JobEventKeys.completed("a/close"))
            .isNotEqualTo(JobEventKeys.manifest(manifest("a", "close", 5)));
        assertThat(JobEventKeys.resolved(job, runOrItem))
            .isNotEqualTo(manifest)
            .isNotEqualTo(JobEventKeys.completed(job))
            .isNotEqualTo(JobEventKeys.resolved(job, runOrItem + "-2"));
      }
    }
  }

  /**
   * Review (2026-11-30): manifests were keyed {@code <job>/<runId>}, so job a/b's run c and job a's
   * run b/c shared a key and compaction kept one of the two; and a run sent again with another
   * count replaced the first under compaction, while the ledger keeps the first.
   */
  @Test
  void manifestsOfTwoRunsOrOfOneRunWithTwoCountsNeverShareAKey() {
    assertThat(JobEventKeys.manifest(manifest("a/b", "c", 5)))
        .isNotEqualTo(JobEventKeys.manifest(manifest("a", "b/c", 5)));
    // Every manifest of one run shares a key, and so a partition: the recorder reads them in the
    // order sent and keeps the first (keying by count too let a later one be read first).
    assertThat(JobEventKeys.manifest(manifest("a", "r1", 1000)))
        .isEqualTo(JobEventKeys.manifest(manifest("a", "r1", 1200)));
  }

  private static JobManifest manifest(String job, String runId, long count) {
    return new JobManifest(job, "t", count, runId, java.time.Instant.EPOCH, java.util.Map.of());
  }
}
