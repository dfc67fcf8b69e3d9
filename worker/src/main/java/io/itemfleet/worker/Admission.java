package io.itemfleet.worker;

/**
 * Decides whether an attempt the poll loop took from a partition runs now, waits, or ends without
 * running, and how its result reaches its slot. Two kinds: {@link DirectAdmission} (no Redis: every
 * attempt runs at once and its result goes straight to its slot) and {@link RedisGate}
 * (idempotency, cache and tag limits checked in Redis before running; a done marker written before
 * the result is posted). See docs/ARCHITECTURE.md, "Admission".
 *
 * <p>Threads: {@link #submit}, {@link #undecided} and {@link #takeVerdicts} are called by the poll
 * thread only; {@link #post} and {@link #release} by lanes and the watchdog (also on the poll
 * thread); the rest by anyone.
 */
interface Admission extends AutoCloseable {

  /** Where an attempt told to wait goes: held by the poll loop for {@code millis}. */
  interface Waits {
    void hold(Attempt a, long millis);
  }

  /** Starts deciding; results are written into slots through {@code lanes}. */
  void start(Lanes lanes, FatalSignal fatal);

  /** Asks for a decision on an attempt. Poll thread only. */
  void submit(Attempt a);

  /** Submitted attempts not yet decided (they count against the ready queue's room). */
  int undecided();

  /** Hands decided attempts on: those cleared to run to {@code lanes}, others to {@code waits}. */
  void takeVerdicts(Lanes lanes, Waits waits);

  /** Posts an attempt's result once whatever must precede it (a done marker) is written. */
  void post(Attempt a, ItemResult result);

  /** An admitted attempt that will not run (its partition was revoked, or the worker drains). */
  void release(Attempt a);

  /** Results handed to {@link #post} and not yet in their slot. */
  int finishing();

  /** False while the store behind the decisions cannot be reached; the worker then pauses. */
  boolean healthy();

  /** Round trips made to decide so far, for benchmarks; zero without a store. */
  default long roundTrips() {
    return 0;
  }

  /** Attempts checked so far, for benchmarks; zero without a store. */
  default long checked() {
    return 0;
  }

  @Override
  void close();
}
