package io.itemfleet.schemas;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * Aggregate outcomes for one job, task type and minute (schema {@code stats.schema.json}).
 *
 * @param minute start of the UTC minute
 * @param retries retries scheduled
 * @param handlerMillis summed handler wall time
 */
public record StatsDelta(
    String job,
    String type,
    Instant minute,
    OutcomeCounts counts,
    long retries,
    long handlerMillis,
    LatencyHistogram latency) {

  public StatsDelta {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(counts, "counts");
    Objects.requireNonNull(latency, "latency");
    if (!minute.truncatedTo(ChronoUnit.MINUTES).equals(minute)) {
      throw new IllegalArgumentException("minute must be the start of a minute, was " + minute);
    }
    if (retries < 0 || handlerMillis < 0) {
      throw new IllegalArgumentException(
          "retries and handlerMillis must be >= 0: retries="
              + retries
              + ", handlerMillis="
              + handlerMillis);
    }
  }
}
