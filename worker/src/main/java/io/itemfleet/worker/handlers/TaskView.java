package io.itemfleet.worker.handlers;

import io.itemfleet.handler.TaskContext;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;

/**
 * The worker's side of a {@link TaskContext}: the task message itself, which the built-in handlers
 * forward whole (http posts it, exec and process write it to the child). Contexts the worker makes
 * implement it; {@link #of} rebuilds a message from any other context.
 */
public interface TaskView extends TaskContext {
  TaskMessage task();

  @Override
  default String job() {
    return task().job();
  }

  @Override
  default String type() {
    return task().type();
  }

  @Override
  default String item() {
    return task().item();
  }

  @Override
  default int attempt() {
    return task().attempt() + 1;
  }

  @Override
  default String payloadJson() {
    return task().payload().toString();
  }

  /**
   * Starts the attempt's time-out (again) at {@code nanoTime} ({@link System#nanoTime}): its
   * deadline becomes that plus the type's {@code timeout}. For a built-in handler whose attempt
   * waits for something that is not its own work — a {@code process} child that is still starting
   * ({@code startTimeout}) — so that the wait does not use up the time-out. Contexts without an
   * attempt behind them (tests, {@link #of}) ignore it.
   */
  default void timeoutStartsAt(long nanoTime) {}

  /** A plain context of {@code task}, without checkpoints. */
  static TaskView of(TaskMessage task) {
    return () -> task;
  }

  /** The task message behind {@code ctx}: its own, or one rebuilt from what it exposes. */
  static TaskMessage taskOf(TaskContext ctx) {
    if (ctx instanceof TaskView v) return v.task();
    TaskMessage t =
        new TaskMessage(
            ctx.job(),
            ctx.type(),
            ctx.item(),
            ctx.attempt() - 1,
            java.util.Optional.empty(),
            com.fasterxml.jackson.databind.node.NullNode.getInstance(),
            io.itemfleet.schemas.TaskOptions.NONE);
    try {
      return t.withPayload(JSON.readTree(ctx.payloadJson()));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("the context's payload is not JSON: " + e.getMessage());
    }
  }

  /** Parses payloads of foreign contexts. */
  com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Shared, for encoding whole tasks. */
  MessageCodec CODEC = new MessageCodec();
}
