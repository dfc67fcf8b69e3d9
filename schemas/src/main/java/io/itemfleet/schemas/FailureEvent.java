package io.itemfleet.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One terminal failure (schema {@code failure.schema.json}): a FAILED item, or a POISON record with
 * its raw bytes.
 *
 * @param attempts attempts made, the first included; 0 for POISON
 * @param retryable false when the handler said the failure is permanent
 * @param errorClass short machine-friendly class, e.g. {@code http.404}, {@code timeout}
 * @param payload the last payload, {@link NullNode} when none
 */
public record FailureEvent(
    Outcome outcome,
    Optional<String> job,
    Optional<String> type,
    Optional<String> item,
    int attempts,
    boolean retryable,
    String errorClass,
    String errorMessage,
    Instant failedAt,
    Optional<SourceRecord> source,
    JsonNode payload,
    Optional<Poison> poison) {

  /** The raw bytes of an undecodable record and why it could not be decoded. */
  public record Poison(byte[] raw, String field, String cause) {
    public Poison {
      raw = raw.clone();
    }

    @Override
    public byte[] raw() {
      return raw.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Poison p
          && java.util.Arrays.equals(raw, p.raw)
          && field.equals(p.field)
          && cause.equals(p.cause);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(raw) * 31 + field.hashCode() * 17 + cause.hashCode();
    }
  }

  public FailureEvent {
    Objects.requireNonNull(errorClass, "errorClass");
    Objects.requireNonNull(errorMessage, "errorMessage");
    Objects.requireNonNull(payload, "payload");
    switch (outcome) {
      case FAILED -> {
        if (job.isEmpty() || type.isEmpty() || item.isEmpty() || poison.isPresent()) {
          throw new IllegalArgumentException(
              "a FAILED event needs job, type and item, and no poison part");
        }
      }
      case POISON -> {
        if (poison.isEmpty()) {
          throw new IllegalArgumentException("a POISON event needs its raw bytes and decode error");
        }
      }
      default ->
          throw new IllegalArgumentException(
              "a failure event's outcome is FAILED or POISON, not " + outcome);
    }
    if (errorClass.isEmpty() || attempts < 0) {
      throw new IllegalArgumentException(
          "errorClass must be set and attempts >= 0: errorClass='"
              + errorClass
              + "', attempts="
              + attempts);
    }
  }

  /** A FAILED item. */
  public static FailureEvent failed(
      TaskMessage task,
      int attempts,
      boolean retryable,
      String errorClass,
      String errorMessage,
      Instant at,
      Optional<SourceRecord> source) {
    return new FailureEvent(
        Outcome.FAILED,
        Optional.of(task.job()),
        Optional.of(task.type()),
        Optional.of(task.item()),
        attempts,
        retryable,
        errorClass,
        errorMessage,
        at,
        source,
        task.payload(),
        Optional.empty());
  }

  /** A POISON record, attributed to {@code job} when its headers named one. */
  public static FailureEvent poison(
      byte[] raw,
      DecodeError error,
      Optional<String> job,
      Optional<String> type,
      Instant at,
      Optional<SourceRecord> source) {
    return new FailureEvent(
        Outcome.POISON,
        job,
        type,
        Optional.empty(),
        0,
        false,
        "decode." + error.kind().name().toLowerCase(java.util.Locale.ROOT),
        error.field() + ": " + error.cause(),
        at,
        source,
        NullNode.getInstance(),
        Optional.of(new Poison(raw, error.field(), error.cause())));
  }
}
