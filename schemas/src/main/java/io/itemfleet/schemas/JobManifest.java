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

  /** Longest label value, as the recorder reads manifests. */
  public static final int MAX_LABEL = 4096;

  /** Longest run ID. */
  public static final int MAX_RUN_ID = 128;

  /**
   * Why the recorder would refuse a manifest with these labels, or empty. Checked before anything
   * is sent: a refused manifest leaves its job without a total, so it never completes.
   */
  public static java.util.Optional<String> labelsProblem(Map<String, String> labels) {
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String v = e.getValue() == null ? "" : e.getValue();
      if (v.isEmpty() || v.length() > MAX_LABEL) {
        return java.util.Optional.of(
            "label "
                + e.getKey()
                + ": the value must be 1 to "
                + MAX_LABEL
                + " characters, was "
                + v.length());
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Why the recorder would refuse this run ID (the name rule, at most 128 characters), or empty.
   */
  public static java.util.Optional<String> runIdProblem(String runId) {
    if (runId.length() > MAX_RUN_ID) {
      return java.util.Optional.of(
          "the run ID must be 1 to " + MAX_RUN_ID + " characters, was " + runId.length());
    }
    return Names.problem("run", runId);
  }

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
