package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The sums {@code fleet status} and {@code fleet watch} show. They added failed and poison (and
 * succeeded and cached) with a plain {@code +}: on a ledger whose sums stopped at the largest
 * bigint (stats deltas from any Kafka client, see the recorder's HostileValuesTest) a job showed a
 * negative number of failures.
 */
class OutcomeCountsTest {

  @Test
  void theShownSumsStopAtTheLargestLong() {
    OutcomeCounts c = new OutcomeCounts(Long.MAX_VALUE, 5, Long.MAX_VALUE, 0, 1);
    assertThat(c.succeededOrCached()).isEqualTo(Long.MAX_VALUE);
    assertThat(c.failedOrPoison()).isEqualTo(Long.MAX_VALUE);
    assertThat(c.total()).isEqualTo(Long.MAX_VALUE);
    OutcomeCounts small = new OutcomeCounts(3, 4, 5, 6, 7);
    assertThat(small.succeededOrCached()).isEqualTo(7);
    assertThat(small.failedOrPoison()).isEqualTo(12);
  }
}
