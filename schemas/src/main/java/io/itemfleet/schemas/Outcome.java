package io.itemfleet.schemas;

/** The terminal outcome of one task message. Every message ends in exactly one. */
public enum Outcome {
  /** The handler succeeded. */
  SUCCEEDED,
  /** A cache key hit: the handler was skipped. */
  CACHED,
  /** Retries exhausted, or the handler said the failure is permanent. */
  FAILED,
  /** A second message for an item already done in this job. */
  DEDUPLICATED,
  /** The record could not be decoded. */
  POISON
}
