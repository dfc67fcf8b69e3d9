package io.itemfleet.producer;

import java.time.Duration;
import java.util.Locale;

/** The Kafka broker did not answer within the allowed time. A retry may help once it is up. */
public final class BrokerUnreachableException extends RuntimeException {
  public BrokerUnreachableException(String bootstrap, Duration waited, Throwable cause) {
    this(bootstrap, waited, "PLAINTEXT", cause);
  }

  /**
   * @param securityProtocol the client's {@code security.protocol}: a mismatch with the broker's
   *     listener (SASL against PLAINTEXT, or the other way round) also looks like silence
   */
  public BrokerUnreachableException(
      String bootstrap, Duration waited, String securityProtocol, Throwable cause) {
    super(
        "Kafka at "
            + bootstrap
            + " did not answer within "
            + waited.toMillis()
            + " ms "
            + likelyCause(securityProtocol, cause),
        cause);
  }

  private static String likelyCause(String protocol, Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String name = t.getClass().getSimpleName();
      if (name.contains("Authentication") || name.contains("Sasl")) {
        return "(authentication failed: "
            + t.getMessage()
            + "; check the SASL settings in FLEET_KAFKA_PROPERTIES)";
      }
      if (name.contains("Ssl")) {
        return "(TLS failed: "
            + t.getMessage()
            + "; check the TLS settings in FLEET_KAFKA_PROPERTIES)";
      }
    }
    String p = protocol.toUpperCase(Locale.ROOT);
    if (!p.equals("PLAINTEXT")) {
      return "(check FLEET_KAFKA_BOOTSTRAP and that the broker is up; the client uses security.protocol="
          + p
          + " from FLEET_KAFKA_PROPERTIES: a listener on that port that speaks another protocol, e.g."
          + " PLAINTEXT, also never answers, so check the port's protocol and the credentials)";
    }
    return "(check FLEET_KAFKA_BOOTSTRAP and that the broker is up)";
  }
}
