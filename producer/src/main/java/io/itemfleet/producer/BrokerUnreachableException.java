package io.itemfleet.producer;

import java.time.Duration;

/** The Kafka broker did not answer within the allowed time. A retry may help once it is up. */
public final class BrokerUnreachableException extends RuntimeException {
  public BrokerUnreachableException(String bootstrap, Duration waited, Throwable cause) {
    super(
        "Kafka at "
            + bootstrap
            + " did not answer within "
            + waited.toMillis()
            + " ms (check FLEET_KAFKA_BOOTSTRAP and that the broker is up)",
        cause);
  }
}
