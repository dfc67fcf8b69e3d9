package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesEveryUnit() {
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void formatsInTheLargestExactUnit() {
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Durations.format(Duration.ofMinutes(120))).isEqualTo("2h");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void rejectsOtherShapesWithTheText() {
    assertThatThrownBy(() -> Durations.parse("5 sec")).hasMessageContaining("'5 sec'");
    assertThatThrownBy(() -> Durations.parse("-1s")).isInstanceOf(IllegalArgumentException.class);
  }
}
