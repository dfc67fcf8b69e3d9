package io.itemfleet.schemas;

/** Counts of terminal outcomes; every field is non-negative. */
public record OutcomeCounts(
    long succeeded, long cached, long failed, long deduplicated, long poison) {

  public static final OutcomeCounts ZERO = new OutcomeCounts(0, 0, 0, 0, 0);

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
      case SUCCEEDED -> new OutcomeCounts(succeeded + n, cached, failed, deduplicated, poison);
      case CACHED -> new OutcomeCounts(succeeded, cached + n, failed, deduplicated, poison);
      case FAILED -> new OutcomeCounts(succeeded, cached, failed + n, deduplicated, poison);
      case DEDUPLICATED -> new OutcomeCounts(succeeded, cached, failed, deduplicated + n, poison);
      case POISON -> new OutcomeCounts(succeeded, cached, failed, deduplicated, poison + n);
    };
  }

  public OutcomeCounts plus(OutcomeCounts o) {
    return new OutcomeCounts(
        succeeded + o.succeeded,
        cached + o.cached,
        failed + o.failed,
        deduplicated + o.deduplicated,
        poison + o.poison);
  }

  /** All terminal outcomes together. */
  public long total() {
    return succeeded + cached + failed + deduplicated + poison;
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
