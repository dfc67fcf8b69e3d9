package io.itemfleet.worker;

import io.itemfleet.schemas.TaskMessage;
import java.time.Duration;
import java.util.Optional;

/** A task context whose checkpoints live in Redis under the item's idempotency key. */
record CheckpointingContext(TaskMessage task, Checkpoints store, String key, Duration ttl)
    implements TaskContext {

  @Override
  public Optional<String> checkpoint() {
    return store.read(key);
  }

  @Override
  public void saveCheckpoint(String progress) {
    store.save(key, progress, ttl);
  }
}
