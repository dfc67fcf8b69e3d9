package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.Backoff;
import io.itemfleet.schemas.TaskOptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private static final TaskSettings LIST =
      TaskSettings.DEFAULTS.with(
          TaskOptions.NONE.withRetryDelays(List.of(Duration.ofSeconds(5), Duration.ofSeconds(10))));

  @Test
  void delayListIsFollowedAndItsLastEntryRepeats() {
    assertThat(RetryPolicy.baseDelay(LIST, 1)).isEqualTo(Duration.ofSeconds(5));
    assertThat(RetryPolicy.baseDelay(LIST, 2)).isEqualTo(Duration.ofSeconds(10));
    assertThat(RetryPolicy.baseDelay(LIST, 7)).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void backoffDoublesUpToItsCap() {
    TaskSettings s =
        TaskSettings.DEFAULTS.with(
            TaskOptions.NONE.withBackoff(
                new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(5))));
    assertThat(
            List.of(1, 2, 3, 4, 60).stream()
                .map(n -> RetryPolicy.baseDelay(s, n).toMillis())
                .toList())
        .containsExactly(1000L, 2000L, 4000L, 5000L, 5000L);
  }

  @Test
  void jitterStaysWithinItsBounds() {
    assertThat(RetryPolicy.jittered(Duration.ofSeconds(10), 0.2, () -> 0.0))
        .isEqualTo(Duration.ofSeconds(8));
    assertThat(RetryPolicy.jittered(Duration.ofSeconds(10), 0.2, () -> 0.999999))
        .isBetween(Duration.ofMillis(11_999), Duration.ofSeconds(12));
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < 10_000; i++) {
      assertThat(RetryPolicy.nextDelay(LIST, 1, r::nextDouble).toMillis()).isBetween(4000L, 6000L);
    }
  }

  @Test
  void messageOptionsOverrideTypeSettings() {
    TaskSettings type =
        new TaskSettings(
            5,
            List.of(Duration.ofSeconds(1)),
            Optional.empty(),
            0.1,
            Duration.ofSeconds(30),
            Duration.ofDays(7),
            List.of("a"),
            TaskSettings.DEFAULT_IDEMPOTENCY_KEY,
            Optional.empty(),
            Duration.ofDays(1),
            false);
    TaskSettings msg =
        type.with(TaskOptions.NONE.withRetries(1).withTimeout(Duration.ofSeconds(2)));
    assertThat(msg.retries()).isEqualTo(1);
    assertThat(msg.timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(msg.retryDelays()).isEqualTo(type.retryDelays());
    assertThat(RetryPolicy.canRetry(msg, 1)).isTrue();
    assertThat(RetryPolicy.canRetry(msg, 2)).isFalse();
  }

  @Test
  void anOverflowedAttemptCountNeverIndexesBelowTheListOrRetries() {
    int overflowed = Integer.MAX_VALUE + 1; // what attempt 2147483647 + 1 became
    assertThat(RetryPolicy.canRetry(LIST, overflowed)).isFalse();
    assertThat(RetryPolicy.baseDelay(LIST, overflowed)).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void retryAfterIsClampedBetweenTheConfiguredDelayAndOneDay() {
    assertThat(RetryPolicy.requestedDelay(LIST, 1, Duration.ofSeconds(-30), () -> 0.5))
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(RetryPolicy.requestedDelay(LIST, 1, Duration.ofSeconds(999_999), () -> 0.5))
        .isEqualTo(Duration.ofHours(24));
    assertThat(RetryPolicy.requestedDelay(LIST, 1, Duration.ofSeconds(60), () -> 0.5))
        .isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void outOfRangeOptionsAreRejectedNamingTheSetting() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LIST.with(TaskOptions.NONE.withTimeout(Duration.ofDays(9_999_999_999L))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout must be in [1ms, 24h]");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LIST.with(TaskOptions.NONE.withRetryDelays(List.of(Duration.ofDays(2)))))
        .hasMessageContaining("retryDelays must each be in [0ms, 24h], was 2d");
  }

  @Test
  void messageOptionsMustKeepTheMarkerAliveThroughTheirRetries() {
    TaskSettings s =
        LIST.with(
            TaskOptions.NONE
                .withRetryDelays(List.of(Duration.ofHours(2)))
                .withIdempotencyTtl(Duration.ofSeconds(1)));
    org.assertj.core.api.Assertions.assertThatThrownBy(s::checkIdempotencyTtl)
        .hasMessageContaining("idempotencyTtl: 1s does not outlast the longest retry schedule");
  }
}
