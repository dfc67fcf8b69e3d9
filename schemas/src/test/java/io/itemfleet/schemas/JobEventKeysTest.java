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
        String manifest = JobEventKeys.manifest(job, runOrItem);
        assertThat(JobEventKeys.completed(job)).isNotEqualTo(manifest);
        assertThat(JobEventKeys.completed("a/close"))
            .isNotEqualTo(JobEventKeys.manifest("a", "close"));
        assertThat(JobEventKeys.resolved(job, runOrItem))
            .isNotEqualTo(manifest)
            .isNotEqualTo(JobEventKeys.completed(job))
            .isNotEqualTo(JobEventKeys.resolved(job, runOrItem + "-2"));
      }
    }
  }
}
