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
    return encode(false);
  }

  /**
   * As {@link #encode()}; {@code compact} (the buckets layout) writes the outcome as its one-letter
   * {@link #code} ("S" for SUCCEEDED), so that a marker stays small in Redis's memory.
   */
  String encode(boolean compact) {
    String m = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message;
    return (compact ? code(outcome) : outcome.name())
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

  /** The one-letter code of an outcome in compact markers: its name's first letter. */
  static String code(Outcome o) {
    return o.name().substring(0, 1);
  }

  /** An outcome from its name or its one-letter code. */
  static Outcome outcome(String text) {
    if (text.length() == 1) {
      for (Outcome o : Outcome.values()) {
        if (code(o).equals(text)) return o;
      }
      throw new IllegalArgumentException("no outcome has code " + text);
    }
    return Outcome.valueOf(text);
  }

  /** Parses {@link #encode()}'s form, either way; empty for anything else. */
  static Optional<DoneMarker> decode(String value) {
    String[] f = value.split("\\|", 7);
    if (f.length != 7) return Optional.empty();
    try {
      return Optional.of(
          new DoneMarker(
              outcome(f[0]),
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
