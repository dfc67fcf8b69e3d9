package io.itemfleet.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The topic names of one fleet: {@code <prefix>.tasks}, {@code .failures}, {@code .stats}, {@code
 * .jobs} and one retry topic per delay tier, {@code <prefix>.retry.<tier>}.
 *
 * @param prefix FLEET_TOPIC_PREFIX, default {@code fleet}
 */
public record FleetTopics(String prefix) {
  /** Delay tiers of the retry topics; a retry waits in the largest tier not above its delay. */
  public static final List<Duration> RETRY_TIERS =
      List.of(
          Duration.ofSeconds(5),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofHours(1));

  public FleetTopics {
    if (!prefix.matches("[A-Za-z0-9._-]{1,200}")) {
      throw new IllegalArgumentException(
          "FLEET_TOPIC_PREFIX must be 1-200 characters of letters, digits, '.', '_' or '-', was '"
              + prefix
              + "'");
    }
  }

  public String tasks() {
    return prefix + ".tasks";
  }

  public String failures() {
    return prefix + ".failures";
  }

  public String stats() {
    return prefix + ".stats";
  }

  public String jobs() {
    return prefix + ".jobs";
  }

  /** The retry topic of a delay tier, e.g. {@code fleet.retry.30s}. */
  public String retry(Duration tier) {
    return prefix + ".retry." + Durations.format(tier);
  }

  public List<String> retryTopics() {
    return RETRY_TIERS.stream().map(this::retry).toList();
  }

  /** Topics that carry task messages and so bound the number of workers: tasks and retries. */
  public List<String> workTopics() {
    List<String> all = new ArrayList<>();
    all.add(tasks());
    all.addAll(retryTopics());
    return all;
  }

  /** Every topic of the fleet. */
  public List<String> all() {
    List<String> all = new ArrayList<>(workTopics());
    all.add(failures());
    all.add(stats());
    all.add(jobs());
    return all;
  }
}
