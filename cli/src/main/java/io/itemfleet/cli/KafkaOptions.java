package io.itemfleet.cli;

import io.itemfleet.schemas.FleetTopics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Where Kafka is and what the fleet's topics are called: FLEET_* variables, overridden by flags.
 */
final class KafkaOptions {
  @Option(
      names = "--bootstrap",
      defaultValue = "${env:FLEET_KAFKA_BOOTSTRAP:-localhost:9092}",
      description =
          "Kafka bootstrap servers (env FLEET_KAFKA_BOOTSTRAP, default ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(
      names = "--kafka-properties",
      defaultValue = "${env:FLEET_KAFKA_PROPERTIES}",
      description =
          "Kafka client properties file (SASL, TLS, ...) merged into every client (env FLEET_KAFKA_PROPERTIES).")
  Path propertiesFile;

  @Option(
      names = "--topic-prefix",
      defaultValue = "${env:FLEET_TOPIC_PREFIX:-fleet}",
      description = "Topic prefix (env FLEET_TOPIC_PREFIX, default ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(
      names = "--partitions",
      defaultValue = "${env:FLEET_PARTITIONS:-12}",
      description =
          "Partitions of topics created when missing (env FLEET_PARTITIONS, default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--replication-factor",
      defaultValue = "${env:FLEET_REPLICATION_FACTOR}",
      description =
          "Replicas of each topic created when missing (env FLEET_REPLICATION_FACTOR; default: the"
              + " broker's default.replication.factor). Use 3 on a production cluster.")
  Integer replicationFactor;

  /** The replication factor of topics to create: the option's, else the broker's default. */
  Optional<Short> replicationFactor() {
    if (replicationFactor == null) return Optional.empty();
    if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
      throw new UsageException(
          "--replication-factor (FLEET_REPLICATION_FACTOR) must be at least 1, was "
              + replicationFactor);
    }
    return Optional.of(replicationFactor.shortValue());
  }

  FleetTopics topics() {
    try {
      return new FleetTopics(topicPrefix);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** Client properties: the properties file, then the bootstrap servers over it. */
  Map<String, Object> clientProperties() {
    Map<String, Object> p = new HashMap<>();
    if (propertiesFile != null) {
      Properties file = new Properties();
      try (Reader r = Files.newBufferedReader(propertiesFile)) {
        file.load(r);
      } catch (IOException e) {
        throw new UsageException(
            "cannot read FLEET_KAFKA_PROPERTIES file " + propertiesFile + ": " + e.getMessage());
      }
      file.forEach((k, v) -> p.put((String) k, v));
    }
    p.put("bootstrap.servers", bootstrap);
    return p;
  }
}
