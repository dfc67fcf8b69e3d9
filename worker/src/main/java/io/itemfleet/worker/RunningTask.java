package io.itemfleet.worker;

import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.handlers.TaskView;

/** The context of an attempt without checkpoints (no Redis, or no keys): the task and its clock. */
record RunningTask(TaskMessage task, Attempt owner) implements TaskView {
  @Override
  public void timeoutStartsAt(long nanoTime) {
    owner.timeoutStartsAt(nanoTime);
  }
}
