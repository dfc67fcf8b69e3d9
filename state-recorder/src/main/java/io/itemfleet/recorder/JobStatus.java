package io.itemfleet.recorder;

import io.itemfleet.schemas.OutcomeCounts;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A job as the ledger knows it; what {@code fleet status} prints.
 *
 * @param total expected outcomes, from the manifests; empty until one was recorded
 * @param done whether the terminal outcomes reached the total
 * @param resolved failed items whose failure a later run resolved (a replay that succeeded); they
 *     stay counted in {@code failed}, which counts outcomes, not open problems
 */
public record JobStatus(
    String job,
    String type,
    Optional<Long> total,
    OutcomeCounts counts,
    long retries,
    long handlerMillis,
    Map<String, String> labels,
    Instant createdAt,
    Instant updatedAt,
    Optional<Instant> completedAt,
    long resolved) {
  public boolean done() {
    return completedAt.isPresent();
  }

  /** Failures still open: FAILED and POISON outcomes not resolved since. */
  public long unresolved() {
    return Math.max(0, counts.failedOrPoison() - resolved); // no wrap to a negative sum
  }

  /** Terminal outcomes so far. */
  public long finished() {
    return counts.total();
  }
}
