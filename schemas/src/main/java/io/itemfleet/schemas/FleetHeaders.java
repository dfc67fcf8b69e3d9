package io.itemfleet.schemas;

/** Kafka header names that ItemFleet reads and writes. Header values are UTF-8. */
public final class FleetHeaders {
  /** The job of a plain item ID record, and of a poison record when known. */
  public static final String JOB = "fleet-job";

  /** The task type of a plain item ID record. */
  public static final String TYPE = "fleet-type";

  private FleetHeaders() {}

  /**
   * Marks a replayed task message ({@code fleet replay}): a FAILED done marker does not deduplicate
   * it, and its success resolves the item's failure row.
   */
  public static final String REPLAY = "fleet-replay";

  /**
   * On a retry-topic record of an item whose type the worker that read it had no handler for: when
   * a worker first found it unknown (epoch milliseconds, decimal). Bounds how long it is passed on.
   */
  public static final String UNKNOWN_SINCE = "fleet-unknown-since";
}
