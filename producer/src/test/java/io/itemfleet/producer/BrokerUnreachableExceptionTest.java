package io.itemfleet.producer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

class BrokerUnreachableExceptionTest {
  @Test
  void silenceUnderASecurityProtocolNamesTheLikelyMismatch() {
    String m =
        new BrokerUnreachableException(
                "k:9092", Duration.ofSeconds(5), "SASL_SSL", new TimeoutException("t"))
            .getMessage();
    assertThat(m)
        .contains("did not answer within 5000 ms")
        .contains("security.protocol=SASL_SSL")
        .contains("speaks another protocol");
  }

  @Test
  void anAuthenticationFailureIsNamedAsSuch() {
    String m =
        new BrokerUnreachableException(
                "k:9092",
                Duration.ofSeconds(5),
                "SASL_PLAINTEXT",
                new java.util.concurrent.ExecutionException(
                    new SaslAuthenticationException("bad password")))
            .getMessage();
    assertThat(m).contains("authentication failed: bad password");
  }

  @Test
  void plaintextSilenceSaysCheckTheBroker() {
    assertThat(new BrokerUnreachableException("k:9092", Duration.ofSeconds(5), null).getMessage())
        .endsWith("(check FLEET_KAFKA_BOOTSTRAP and that the broker is up)");
  }
}
