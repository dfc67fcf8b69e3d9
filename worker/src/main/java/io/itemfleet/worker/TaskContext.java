package io.itemfleet.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.itemfleet.schemas.TaskMessage;
import java.util.Optional;

/** What a handler sees of the item it runs. */
public interface TaskContext {
  TaskMessage task();

  default String job() {
    return task().job();
  }

  default String type() {
    return task().type();
  }

  default String item() {
    return task().item();
  }

  /** 1 for the first attempt. */
  default int attempt() {
    return task().attempt() + 1;
  }

  default JsonNode payload() {
    return task().payload();
  }

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
}
