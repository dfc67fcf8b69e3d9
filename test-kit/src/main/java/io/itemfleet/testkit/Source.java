package io.itemfleet.testkit;

/** Where a test service comes from, in the order the test kit tries them. */
public enum Source {
  /** A running service named by a {@code FLEET_TEST_*} environment variable. */
  ENVIRONMENT,
  /** A container started through Testcontainers, when a Docker engine answers. */
  TESTCONTAINERS,
  /** A real server started in or under this JVM: KRaft Kafka, redis-server, PostgreSQL binaries. */
  EMBEDDED
}
