package io.itemfleet.worker.handlers;

import java.util.List;
import java.util.Map;

/**
 * The environment an {@code exec} command or a {@code process} child gets: the worker's own, less
 * the variables that hold the fleet's secrets. A child is the user's code, often a third-party
 * tool, and anything it logs or crashes with would otherwise carry the Redis password, the database
 * password or the API token; a handler that needs a credential gets it under a name of its own.
 */
final class ChildEnvironment {
  private ChildEnvironment() {}

  /** Removed from every child's environment. */
  static final List<String> SECRETS =
      List.of(
          "FLEET_REDIS_URL",
          "FLEET_DB_URL",
          "FLEET_DB_USER",
          "FLEET_DB_PASSWORD",
          "FLEET_API_TOKEN",
          "FLEET_ALERTS_WEBHOOK",
          "FLEET_KAFKA_PROPERTIES");

  /** Removes the fleet's secrets from {@code env} (a ProcessBuilder's environment). */
  static void scrub(Map<String, String> env) {
    SECRETS.forEach(env::remove);
  }
}
