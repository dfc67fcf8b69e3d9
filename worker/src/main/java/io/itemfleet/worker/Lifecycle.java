package io.itemfleet.worker;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A worker's lifecycle, one state at a time, moved only along these arrows (anything else is a bug
 * and throws):
 *
 * <pre>
 *   STARTING ──▶ RUNNING ──▶ DRAINING ──▶ STOPPED
 *       │           │            │
 *       └───────────┴────────────┴──────▶ FAILED
 * </pre>
 *
 * STARTING: clients created, transactions being initialised, not yet polling. RUNNING: polling and
 * running items. DRAINING: asked to stop; running attempts finish, then the last commit. STOPPED:
 * clients closed after a clean drain. FAILED: stopped on its own (fencing, a fatal JVM error, a
 * bug); {@code Worker.failure()} says why. Written by the poll thread, read by anyone.
 */
final class Lifecycle {
  enum State {
    STARTING,
    RUNNING,
    DRAINING,
    STOPPED,
    FAILED
  }

  private static final Map<State, Set<State>> ALLOWED =
      Map.of(
          State.STARTING, EnumSet.of(State.RUNNING, State.FAILED),
          State.RUNNING, EnumSet.of(State.DRAINING, State.FAILED),
          State.DRAINING, EnumSet.of(State.STOPPED, State.FAILED),
          State.STOPPED, EnumSet.noneOf(State.class),
          State.FAILED, EnumSet.noneOf(State.class));

  /** The current state. */
  private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);

  State get() {
    return state.get();
  }

  /**
   * Moves to {@code next}.
   *
   * @throws IllegalStateException when the lifecycle does not allow it from the current state
   */
  void moveTo(State next) {
    State from = state.get();
    if (!ALLOWED.get(from).contains(next) || !state.compareAndSet(from, next)) {
      throw new IllegalStateException(
          "worker lifecycle cannot go from "
              + from
              + " to "
              + next
              + " (allowed: "
              + ALLOWED.get(from)
              + ")");
    }
  }

  /** Moves to FAILED unless already stopped or failed; true when it moved. */
  boolean fail() {
    State from = state.get();
    return ALLOWED.get(from).contains(State.FAILED) && state.compareAndSet(from, State.FAILED);
  }

  /** True until STOPPED or FAILED. */
  boolean alive() {
    State s = state.get();
    return s != State.STOPPED && s != State.FAILED;
  }
}
