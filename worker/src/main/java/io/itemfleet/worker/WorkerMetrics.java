package io.itemfleet.worker;

import io.itemfleet.schemas.Outcome;
import java.util.function.LongSupplier;

/** What the worker reports; kept small so the engine does not depend on a metrics library. */
public interface WorkerMetrics {
  /** One terminal outcome, counted when its transaction commits. */
  void outcome(String type, Outcome outcome);

  /** A retry scheduled, counted when its transaction commits. */
  void retry(String type);

  /** Handler time of one attempt. */
  void handlerTime(String type, long nanos);

  /** One commit transaction and its duration. */
  void commit(long nanos, int records);

  /**
   * Gauges read on scrape: attempts running, consumer lag, and handler threads still running after
   * their attempt timed out (abandoned, ignoring the interrupt).
   */
  void gauges(LongSupplier inFlight, LongSupplier lag, LongSupplier overdue);

  /**
   * Redis gate counters, read on scrape (only when the worker uses Redis): pipelined round trips,
   * items checked, 1 while Redis answers, and leases found truly lost while their attempt ran.
   */
  default void redis(
      LongSupplier roundTrips, LongSupplier checked, LongSupplier healthy, LongSupplier lost) {}

  WorkerMetrics NONE =
      new WorkerMetrics() {
        @Override
        public void outcome(String type, Outcome outcome) {}

        @Override
        public void retry(String type) {}

        @Override
        public void handlerTime(String type, long nanos) {}

        @Override
        public void commit(long nanos, int records) {}

        @Override
        public void gauges(LongSupplier inFlight, LongSupplier lag, LongSupplier overdue) {}
      };
}
