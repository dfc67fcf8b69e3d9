package io.itemfleet.worker;

import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.TaskMessage;
import java.time.Instant;
import java.util.Optional;

/**
 * What one record produced, held until the partition's commit watermark passes it: a terminal
 * outcome or a retry message, and a failure event for FAILED and POISON.
 *
 * @param outcome the terminal outcome; empty when a retry was scheduled
 * @param handlerNanos handler time of this attempt; 0 when no handler ran
 * @param retry the next attempt's message, to go to a retry topic
 * @param finishedAt when the attempt ended; picks the stats minute
 * @param value what a succeeded handler returned, kept with a cache entry where results persist
 * @param unknownTypeSince for a deferral of an item whose type this worker does not know: when a
 *     worker first found it unknown (epoch ms, sent on in a header); 0 otherwise
 */
record ItemResult(
    Optional<Outcome> outcome,
    String job,
    String type,
    boolean handlerRan,
    long handlerNanos,
    Optional<FailureEvent> failure,
    Optional<TaskMessage> retry,
    Instant finishedAt,
    Optional<String> value,
    long unknownTypeSince) {

  static ItemResult terminal(
      Outcome o,
      String job,
      String type,
      boolean ran,
      long nanos,
      Optional<FailureEvent> failure,
      Instant at) {
    return new ItemResult(
        Optional.of(o), job, type, ran, nanos, failure, Optional.empty(), at, Optional.empty(), 0);
  }

  static ItemResult retry(TaskMessage next, long nanos, Instant at) {
    return new ItemResult(
        Optional.empty(),
        next.job(),
        next.type(),
        true,
        nanos,
        Optional.empty(),
        Optional.of(next),
        at,
        Optional.empty(),
        0);
  }

  /**
   * A retry record read before it was due, sent on unchanged to the retry tier that fits what is
   * left of its delay (see docs/CONCURRENCY.md, "Retries"). No attempt ran: it counts as no retry
   * and no outcome.
   */
  static ItemResult deferred(TaskMessage same, Instant at) {
    return deferred(same, at, 0);
  }

  /** A deferral of an item no handler here knows, first found unknown at {@code since}. */
  static ItemResult deferred(TaskMessage same, Instant at, long since) {
    return new ItemResult(
        Optional.empty(),
        same.job(),
        same.type(),
        false,
        0,
        Optional.empty(),
        Optional.of(same),
        at,
        Optional.empty(),
        since);
  }

  /** True for {@link #deferred} results: no outcome and no handler run. */
  boolean isDeferral() {
    return outcome.isEmpty() && !handlerRan;
  }

  ItemResult withValue(Optional<String> v) {
    return new ItemResult(
        outcome, job, type, handlerRan, handlerNanos, failure, retry, finishedAt, v, 0);
  }
}
