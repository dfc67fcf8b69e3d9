package io.itemfleet.testkit;

import java.util.UUID;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that hands a test a {@link TestFleet}: real Kafka, Redis and PostgreSQL, shared
 * by the JVM, isolated per test. Use {@code @ExtendWith(FleetTestKit.class)} and take a {@code
 * TestFleet} parameter.
 *
 * <p>Services come from {@code FLEET_TEST_KAFKA_BOOTSTRAP}, {@code FLEET_TEST_REDIS_URL} and {@code
 * FLEET_TEST_DB_URL} when set, else from Testcontainers when Docker is available, else from real
 * servers embedded in the test JVM.
 */
public final class FleetTestKit implements ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(FleetTestKit.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestFleet.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    // One slice per test method (or per class, for a @BeforeAll parameter).
    return context
        .getStore(NS)
        .getOrComputeIfAbsent(
            "fleet",
            k ->
                TestFleet.create(
                    Infrastructure.shared(), "it-" + UUID.randomUUID().toString().substring(0, 8)),
            TestFleet.class);
  }
}
