package io.itemfleet.testkit;

import java.util.Map;
import java.util.Optional;

/**
 * Which source each service comes from, decided from the environment alone so that the rule can be
 * tested: a {@code FLEET_TEST_*} variable wins, then Testcontainers when Docker is there, then the
 * embedded servers.
 *
 * @param kafkaBootstrap the bootstrap servers when {@code kafka} is {@link Source#ENVIRONMENT}
 * @param redisUrl the URL when {@code redis} is {@link Source#ENVIRONMENT}
 * @param dbUrl a JDBC URL of an existing database on the server, when {@code postgres} is {@link
 *     Source#ENVIRONMENT}; per-test databases are created beside it
 */
public record InfrastructurePlan(
    Source kafka,
    Source redis,
    Source postgres,
    Optional<String> kafkaBootstrap,
    Optional<String> redisUrl,
    Optional<String> dbUrl,
    String dbUser,
    String dbPassword) {

  public static final String KAFKA_VAR = "FLEET_TEST_KAFKA_BOOTSTRAP";
  public static final String REDIS_VAR = "FLEET_TEST_REDIS_URL";
  public static final String DB_VAR = "FLEET_TEST_DB_URL";
  public static final String DB_USER_VAR = "FLEET_TEST_DB_USER";
  public static final String DB_PASSWORD_VAR = "FLEET_TEST_DB_PASSWORD";

  public static InfrastructurePlan choose(Map<String, String> env, boolean dockerAvailable) {
    Optional<String> kafka = nonBlank(env.get(KAFKA_VAR));
    Optional<String> redis = nonBlank(env.get(REDIS_VAR));
    Optional<String> db = nonBlank(env.get(DB_VAR));
    Source fallback = dockerAvailable ? Source.TESTCONTAINERS : Source.EMBEDDED;
    return new InfrastructurePlan(
        kafka.isPresent() ? Source.ENVIRONMENT : fallback,
        redis.isPresent() ? Source.ENVIRONMENT : fallback,
        db.isPresent() ? Source.ENVIRONMENT : fallback,
        kafka,
        redis,
        db,
        nonBlank(env.get(DB_USER_VAR)).orElse("postgres"),
        nonBlank(env.get(DB_PASSWORD_VAR)).orElse(""));
  }

  boolean needsEmbedded() {
    return kafka == Source.EMBEDDED || redis == Source.EMBEDDED || postgres == Source.EMBEDDED;
  }

  private static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
  }
}
