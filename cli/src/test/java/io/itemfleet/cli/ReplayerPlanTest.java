package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.recorder.FailedItem;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** How a replay plan sets aside the items Redis says are done already. */
class ReplayerPlanTest {

  /**
   * A job with 200,000 failures of which Redis says half are done since: the plan sets those aside
   * in one pass. It removed them from a list one by one, each a scan of the other list (20 billion
   * comparisons here), so a dry run of a big job took hours while the API's request hung. The time
   * limit is a hang guard, two orders of magnitude above what the plan takes.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void itemsDoneAlreadyAreSetAsideInOnePassHoweverManyThereAre() {
    List<FailedItem> candidates = new ArrayList<>();
    List<FailedItem> done = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) {
      FailedItem f = failed("item-" + i);
      candidates.add(f);
      if (i % 2 == 1) done.add(f);
    }
    List<FailedItem> left = Replayer.notDone(candidates, done);
    assertThat(left).hasSize(100_000);
    assertThat(left.get(0).itemKey()).isEqualTo("item-0");
    assertThat(left.get(99_999).itemKey()).isEqualTo("item-199998");
    assertThat(candidates).as("the rows it was given are left as they were").hasSize(200_000);
  }

  private static FailedItem failed(String item) {
    Instant at = Instant.parse("2026-11-30T00:00:00Z");
    return new FailedItem(
        "job",
        item,
        Optional.of(item),
        Optional.of("t"),
        "FAILED",
        3,
        false,
        "api.gone",
        "not found",
        "fp",
        at,
        at,
        1,
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }
}
