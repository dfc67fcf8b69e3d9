package io.itemfleet.recorder;

import java.time.Instant;
import java.util.Optional;

/** One row of the failure ledger. */
public record FailedItem(
    String job,
    String itemKey,
    Optional<String> item,
    Optional<String> type,
    String outcome,
    int attempts,
    boolean retryable,
    String errorClass,
    String errorMessage,
    String fingerprint,
    Instant firstFailedAt,
    Instant lastFailedAt,
    int failureCount,
    Optional<String> lastPayload,
    Optional<Instant> replayedAt,
    Optional<String> stackTrace) {}
