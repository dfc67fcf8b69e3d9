package io.itemfleet.worker;

import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import java.util.Optional;

/**
 * What Redis keeps of a finished item under its idempotency key: the outcome and the Kafka record
 * that finished it. A redelivery of that same record re-emits the outcome (its first emission was
 * never committed); any other record for the key is DEDUPLICATED.
 *
 * @param attempts attempts made, for a re-emitted FAILED outcome
 * @param errorClass for FAILED, the error class to re-emit
 * @param message for FAILED, the message to re-emit
 */
record DoneMarker(
    Outcome outcome, SourceRecord source, int attempts, String errorClass, String message) {

  /** Longest failure message kept in a marker. */
  static final int MAX_MESSAGE = 1024;

  /** {@code outcome|topic|partition|offset|attempts|errorClass|message}. */
  String encode() {
    String m = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message;
    return outcome
        + "|"
        + source.topic()
        + "|"
        + source.partition()
        + "|"
        + source.offset()
        + "|"
        + attempts
        + "|"
        + errorClass.replace('|', '/')
        + "|"
        + m;
  }

  /** Parses {@link #encode()}'s form; empty for anything else (a foreign or damaged value). */
  static Optional<DoneMarker> decode(String value) {
    String[] f = value.split("\\|", 7);
    if (f.length != 7) return Optional.empty();
    try {
      return Optional.of(
          new DoneMarker(
              Outcome.valueOf(f[0]),
              new SourceRecord(f[1], Integer.parseInt(f[2]), Long.parseLong(f[3])),
              Integer.parseInt(f[4]),
              f[5],
              f[6]));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** True when {@code r} is the record this marker names. */
  boolean finishedBy(SourceRecord r) {
    return source.equals(r);
  }
}
