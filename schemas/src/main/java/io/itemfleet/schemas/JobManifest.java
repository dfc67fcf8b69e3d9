package io.itemfleet.schemas;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A produce run's manifest (schema {@code job-manifest.schema.json}). The expected total of a job
 * is the sum of {@link #count()} over its distinct {@link #runId()}s.
 */
public record JobManifest(
    String job,
    String type,
    long count,
    String runId,
    Instant createdAt,
    Map<String, String> labels)
    implements JobEvent {
  /**
   * Most task messages one run may add to a job: far beyond any real run, and small enough that no
   * number of manifests can overflow the ledger's 64-bit expected total by accident.
   */
  public static final long MAX_COUNT = 1_000_000_000_000_000L;

  public JobManifest {
    Objects.requireNonNull(createdAt, "createdAt");
    labels = Map.copyOf(labels);
    if (job.isEmpty() || type.isEmpty() || runId.isEmpty() || count < 0 || count > MAX_COUNT) {
      throw new IllegalArgumentException(
          "bad manifest: job='"
              + job
              + "', type='"
              + type
              + "', runId='"
              + runId
              + "', count="
              + count);
    }
  }
}
