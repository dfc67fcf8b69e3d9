package io.itemfleet.schemas;

import java.time.Instant;
import java.util.Objects;

/**
 * Published by the recorder when a job's outcomes reach its expected total (schema {@code
 * job-completed.schema.json}).
 */
public record JobCompleted(
    String job, String type, long total, OutcomeCounts counts, long retries, Instant completedAt)
    implements JobEvent {
  public JobCompleted {
    Objects.requireNonNull(counts, "counts");
    Objects.requireNonNull(completedAt, "completedAt");
    if (job.isEmpty() || total < 0 || retries < 0) {
      throw new IllegalArgumentException(
          "bad completion: job='" + job + "', total=" + total + ", retries=" + retries);
    }
  }
}
