package io.itemfleet.recorder;

import io.itemfleet.schemas.FleetTopics;
import java.time.Duration;
import java.util.Map;

/**
 * What a recorder needs.
 *
 * @param kafka client properties merged into the consumer and producer (bootstrap servers first)
 * @param topics the fleet's topics
 * @param db the PostgreSQL connection
 * @param retention failures and aggregates older than this are deleted; zero keeps everything
 * @param retentionEvery how often the retention sweep runs
 * @param maxBackoff longest wait between retries while PostgreSQL is unreachable
 */
public record RecorderSettings(
    Map<String, Object> kafka,
    FleetTopics topics,
    DbSettings db,
    Duration retention,
    Duration retentionEvery,
    Duration maxBackoff) {
  public RecorderSettings {
    kafka = Map.copyOf(kafka);
    if (retention.isNegative()) throw new IllegalArgumentException("retention must be >= 0");
  }

  public static RecorderSettings defaults(
      Map<String, Object> kafka, FleetTopics topics, DbSettings db) {
    return new RecorderSettings(
        kafka, topics, db, Duration.ofDays(30), Duration.ofHours(1), Duration.ofSeconds(30));
  }

  public RecorderSettings withRetention(Duration retention, Duration every) {
    return new RecorderSettings(kafka, topics, db, retention, every, maxBackoff);
  }

  /** The consumer group, and the key of this recorder's offsets in the database. */
  public String groupId() {
    return topics.prefix() + ".recorder";
  }
}
