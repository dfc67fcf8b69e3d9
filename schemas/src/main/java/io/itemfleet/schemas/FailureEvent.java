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
    Optional<Poison> poison,
    Optional<String> stackTrace) {

  /**
   * The job (and type) a POISON record is counted under when its headers name none, or name one
   * that is not a valid name ({@link Names}).
   */
  public static final String UNATTRIBUTED = "_poison";

  /** Raw bytes kept of a POISON record: its first 64 KiB (with its size and SHA-256). */
  public static final int MAX_RAW_BYTES = 64 * 1024;

  /**
   * Largest payload a failure event carries, in JSON bytes; a larger one is replaced by {@code
   * {"itemfleet.payloadOmitted": {"bytes": N, "sha256": "…"}}} so that the event always fits in one
   * Kafka record. {@code fleet replay} refuses such an item.
   */
  public static final int MAX_PAYLOAD_BYTES = 256 * 1024;

  /** The field of the object that stands in for an omitted payload. */
  public static final String PAYLOAD_OMITTED = "itemfleet.payloadOmitted";

  /** Longest stack trace kept, in characters (causes included, frames cut first). */
  public static final int MAX_STACK_CHARS = 8 * 1024;

  /** Longest error message kept, as written to the failure topic (64 Ki characters). */
  public static final int MAX_MESSAGE_CHARS = 64 * 1024;

  /**
   * The raw bytes of an undecodable record and why it could not be decoded.
   *
   * @param raw the record value, or its first {@link #MAX_RAW_BYTES} bytes when larger
   * @param size the record value's full length in bytes
   * @param sha256 lower-case hex SHA-256 of the full record value
   */
  public record Poison(byte[] raw, String field, String cause, int size, String sha256) {
    public Poison {
      raw = raw.clone();
      if (size < raw.length) {
        throw new IllegalArgumentException(
            "poison size " + size + " is below the " + raw.length + " raw bytes kept");
      }
    }

    /** Keeps at most {@link #MAX_RAW_BYTES} of {@code value}, with its full size and hash. */
    public static Poison of(byte[] value, String field, String cause) {
      byte[] kept =
          value.length <= MAX_RAW_BYTES ? value : java.util.Arrays.copyOf(value, MAX_RAW_BYTES);
      return new Poison(kept, field, cause, value.length, sha256(value));
    }

    /** True when {@link #raw} is only the start of the record value. */
    public boolean truncated() {
      return size > raw.length;
    }

    static String sha256(byte[] value) {
      try {
        return java.util.HexFormat.of()
            .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(value));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has SHA-256", e);
      }
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
          && cause.equals(p.cause)
          && size == p.size
          && sha256.equals(p.sha256);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(raw) * 31 + field.hashCode() * 17 + cause.hashCode() + size;
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
    Objects.requireNonNull(stackTrace, "stackTrace");
    // Handlers' messages quote URLs with credentials: redacted whole, then cut to what is written
    // (an event waits in memory until its commit; a handler's message can be megabytes).
    errorMessage = MessageCodec.truncate(Redaction.text(errorMessage), MAX_MESSAGE_CHARS);
    stackTrace = stackTrace.map(Redaction::text);
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
        Optional.empty(),
        Optional.empty());
  }

  /** This event with a stack trace, cut to {@link #MAX_STACK_CHARS}. */
  public FailureEvent withStackTrace(Optional<String> trace) {
    return new FailureEvent(
        outcome,
        job,
        type,
        item,
        attempts,
        retryable,
        errorClass,
        errorMessage,
        failedAt,
        source,
        payload,
        poison,
        trace.map(t -> MessageCodec.truncate(t, MAX_STACK_CHARS)));
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
        Optional.of(Poison.of(raw, error.field(), error.cause())),
        Optional.empty());
  }
}
