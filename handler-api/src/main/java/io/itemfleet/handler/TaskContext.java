package io.itemfleet.handler;

import java.util.Optional;

/** What a handler sees of the item it runs. */
public interface TaskContext {
  String job();

  String type();

  String item();

  /** 1 for the first attempt. */
  int attempt();

  /** The task's payload as JSON text; {@code "null"} when it has none. */
  String payloadJson();

  /**
   * The progress checkpoint an earlier attempt at this item saved, if any: a retried or redelivered
   * long item can resume where it left off. Read from Redis on each call.
   */
  default Optional<String> checkpoint() {
    return Optional.empty();
  }

  /**
   * Saves a small progress checkpoint (at most 64 KiB) for this item, kept until the item is done
   * or its idempotency TTL passes. One Redis write per call; call it at milestones, not per byte.
   *
   * @throws IllegalStateException when the worker runs without Redis
   */
  default void saveCheckpoint(String progress) {
    throw new IllegalStateException(
        "checkpoints need Redis, and this worker runs without it (--no-redis)");
  }

  /** A logger named for the handler's type; lines go to the worker's log. */
  default System.Logger log() {
    return System.getLogger("io.itemfleet.handler." + type());
  }
}
