package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.web.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Review (API, 9): an API token with a character beyond ISO-8859-1 or a control character never
 * matched what a client sent (the JDK's server reads header bytes as ISO-8859-1), so every request
 * got 401 and nobody could tell why. Such a token now stops the recorder at start, saying so. A
 * space or a Latin-1 letter could match (some clients send ISO-8859-1): those still work.
 */
class RecorderWebTest {

  @Test
  void tokensAnHttpHeaderCannotCarryAreRefused() {
    assertThat(RecorderWeb.tokenProblem("0123456789abcdef-_.~!")).isEmpty();
    assertThat(RecorderWeb.tokenProblem("tök€n-0123456789"))
        .hasValueSatisfying(p -> assertThat(p).contains("index 3").doesNotContain("tök€n"));
    assertThat(RecorderWeb.tokenProblem("bell\u0007-0123456789")).isPresent();
    assertThat(RecorderWeb.tokenProblem("two words")).isEmpty(); // matched before: still does
    assertThat(RecorderWeb.tokenProblem("tök-0123456789")).isEmpty(); // ISO-8859-1 clients match
    assertThat(RecorderWeb.beyondAscii("tök-0123456789")).isTrue();
  }

  @Test
  void theRecorderDoesNotServeWithSuchAToken() {
    try (MetricsServer server =
        MetricsServer.start(
            "127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true)) {
      // The check comes first: nothing else (database, Kafka) is touched.
      assertThatThrownBy(
              () ->
                  RecorderWeb.serve(
                      server, null, null, null, Optional.of("s€cret-0123456789"), Optional.empty()))
          .isInstanceOfSatisfying(CliFailure.class, e -> assertThat(e.code).isEqualTo(2))
          .hasMessageContaining("FLEET_API_TOKEN");
    }
  }
}
