package io.itemfleet.recorder;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.OutcomeCounts;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Open failures on a ledger whose sums stopped at the largest bigint (see HostileValuesTest):
 * failed plus poison wrapped round to a negative number, and the job showed no open failures at
 * all.
 */
class JobStatusTest {

  @Test
  void openFailuresDoNotWrapRoundAtTheLargestLong() {
    JobStatus j =
        new JobStatus(
            "j",
            "t",
            Optional.empty(),
            new OutcomeCounts(0, 0, Long.MAX_VALUE, 0, 1),
            0,
            0,
            Map.of(),
            Instant.EPOCH,
            Instant.EPOCH,
            Optional.empty(),
            2);
    assertThat(j.unresolved()).isEqualTo(Long.MAX_VALUE - 2);
  }
}
