package io.itemfleet.worker;

import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.handlers.TaskView;
import java.time.Duration;
import java.util.Optional;

/**
 * A task context whose checkpoints live in Redis under the item's idempotency key ({@link
 * GateKeys#checkpoint}, worked out only when a handler reads or saves one).
 */
record CheckpointingContext(
    TaskMessage task, Checkpoints store, GateKeys keys, Duration ttl, Attempt owner)
    implements TaskView {

  @Override
  public Optional<String> checkpoint() {
    Optional<String> saved = store.read(keys.checkpoint());
    if (saved.isPresent()) owner.checkpointed = true; // the done marker's write removes it
    return saved;
  }

  @Override
  public void saveCheckpoint(String progress) {
    store.save(keys.checkpoint(), progress, ttl);
    owner.checkpointed = true;
  }

  @Override
  public void timeoutStartsAt(long nanoTime) {
    owner.timeoutStartsAt(nanoTime);
  }
}
