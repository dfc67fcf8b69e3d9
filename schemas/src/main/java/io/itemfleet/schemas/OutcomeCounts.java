package io.itemfleet.schemas;

/** Counts of terminal outcomes; every field is non-negative. */
public record OutcomeCounts(
    long succeeded, long cached, long failed, long deduplicated, long poison) {

  public static final OutcomeCounts ZERO = new OutcomeCounts(0, 0, 0, 0, 0);

  /**
   * The largest count one stats delta or job event may carry (10^15; a worker reports at most a
   * minute of its own commits): anything larger is refused at decoding, so that no message, from
   * any Kafka client, can make a sum overflow.
   */
  public static final long MAX_DELTA = 1_000_000_000_000_000L;

  public OutcomeCounts {
    if (succeeded < 0 || cached < 0 || failed < 0 || deduplicated < 0 || poison < 0) {
      throw new IllegalArgumentException(
          "outcome counts must be >= 0: "
              + describe(succeeded, cached, failed, deduplicated, poison));
    }
  }

  /** One message with the given outcome. */
  public static OutcomeCounts of(Outcome outcome) {
    return ZERO.plus(outcome, 1);
  }

  public long get(Outcome outcome) {
    return switch (outcome) {
      case SUCCEEDED -> succeeded;
      case CACHED -> cached;
      case FAILED -> failed;
      case DEDUPLICATED -> deduplicated;
      case POISON -> poison;
    };
  }

  public OutcomeCounts plus(Outcome outcome, long n) {
    return switch (outcome) {
      case SUCCEEDED -> new OutcomeCounts(add(succeeded, n), cached, failed, deduplicated, poison);
      case CACHED -> new OutcomeCounts(succeeded, add(cached, n), failed, deduplicated, poison);
      case FAILED -> new OutcomeCounts(succeeded, cached, add(failed, n), deduplicated, poison);
      case DEDUPLICATED ->
          new OutcomeCounts(succeeded, cached, failed, add(deduplicated, n), poison);
      case POISON -> new OutcomeCounts(succeeded, cached, failed, deduplicated, add(poison, n));
    };
  }

  public OutcomeCounts plus(OutcomeCounts o) {
    return new OutcomeCounts(
        add(succeeded, o.succeeded),
        add(cached, o.cached),
        add(failed, o.failed),
        add(deduplicated, o.deduplicated),
        add(poison, o.poison));
  }

  /**
   * Succeeded and cached together, as {@code fleet status} shows them (at most the largest long).
   */
  public long succeededOrCached() {
    return add(succeeded, cached);
  }

  /**
   * Failed and poison together, as {@code fleet status} and {@code watch} show them (at most the
   * largest long).
   */
  public long failedOrPoison() {
    return add(failed, poison);
  }

  /** All terminal outcomes together (at most {@link Long#MAX_VALUE}). */
  public long total() {
    return add(add(add(add(succeeded, cached), failed), deduplicated), poison);
  }

  /**
   * The sum of two counts of zero or more, stopping at {@link Long#MAX_VALUE} instead of wrapping
   * round to a negative number.
   */
  public static long add(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  private static String describe(long s, long c, long f, long d, long p) {
    return "succeeded="
        + s
        + ", cached="
        + c
        + ", failed="
        + f
        + ", deduplicated="
        + d
        + ", poison="
        + p;
  }
}
