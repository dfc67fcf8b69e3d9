package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Done markers in both forms: full outcome names (keys layout) and one-letter codes (buckets). */
class DoneMarkerTest {

  @Test
  void everyOutcomeHasItsOwnCodeAndRoundTripsInBothForms() {
    assertThat(Arrays.stream(Outcome.values()).map(DoneMarker::code).distinct().count())
        .as("one-letter codes are unique")
        .isEqualTo(Outcome.values().length);
    for (Outcome o : Outcome.values()) {
      DoneMarker m = new DoneMarker(o, new SourceRecord("~.tasks", 3, 123456), 2, "e|x", "m|sg");
      for (boolean compact : new boolean[] {false, true}) {
        assertThat(DoneMarker.decode(m.encode(compact)))
            .hasValueSatisfying(
                d -> {
                  assertThat(d.outcome()).isEqualTo(o);
                  assertThat(d.source()).isEqualTo(m.source());
                  assertThat(d.attempts()).isEqualTo(2);
                  assertThat(d.errorClass()).isEqualTo("e/x");
                  assertThat(d.message()).isEqualTo("m|sg");
                });
      }
    }
  }

  @Test
  void aCompactSuccessMarkerIsShortAndSeenAsASuccessByTools() {
    String compact =
        RedisGate.DONE
            + new DoneMarker(Outcome.SUCCEEDED, new SourceRecord("~.tasks", 7, 123456), 1, "", "")
                .encode(true);
    assertThat(compact).isEqualTo("D|S|~.tasks|7|123456|1||");
    // Up to 28 characters, Redis keeps such a value in its 32-byte allocation class.
    assertThat(compact.length()).isLessThanOrEqualTo(28);
    assertThat(RedisKeys.successMarker(compact)).isTrue();
    assertThat(RedisKeys.successMarker("D|SUCCEEDED|fleet.tasks|7|1|1||")).isTrue();
    assertThat(RedisKeys.successMarker("D|C|~.tasks|7|1|1||")).isTrue();
    assertThat(RedisKeys.successMarker("D|F|~.tasks|7|1|3|http.500|boom")).isFalse();
    assertThat(RedisKeys.successMarker("L|w|x|~.tasks|7|1|123")).isFalse();
    assertThat(DoneMarker.decode("X|~.tasks|7|1|1||")).isEmpty();
  }
}
