package io.itemfleet.recorder;

import java.time.Instant;
import java.util.List;

/** Unresolved failures of a job that share a fingerprint. */
public record FailureGroup(
    String fingerprint,
    String errorClass,
    String normalisedMessage,
    String sampleMessage,
    long count,
    List<String> sampleItems,
    Instant firstFailedAt,
    Instant lastFailedAt) {}
