package io.itemfleet.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.itemfleet.schemas.TaskMessage;

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
}
