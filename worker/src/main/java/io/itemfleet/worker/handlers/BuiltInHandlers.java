package io.itemfleet.worker.handlers;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.handler.TaskHandlerFactory;

/**
 * The handlers every worker has, on the same API as anyone's: {@code noop}, {@code simulate},
 * {@code http}, {@code exec}, {@code process}.
 */
public final class BuiltInHandlers {
  private BuiltInHandlers() {}

  /** {@code noop}: succeeds at once. For benchmarks and smoke tests. */
  public static final class Noop implements TaskHandlerFactory {
    @Override
    public String name() {
      return "noop";
    }

    @Override
    public TaskHandler create(String type, HandlerConfig config) {
      return ctx -> HandlerResult.succeeded();
    }
  }

  /** {@code simulate}: latency distribution and failure rates, for demos and benchmarks. */
  public static final class Simulate implements TaskHandlerFactory {
    @Override
    public String name() {
      return "simulate";
    }

    @Override
    public TaskHandler create(String type, HandlerConfig config) {
      return SimulateHandler.from(config);
    }
  }

  /**
   * {@code http}: POST the task as JSON; 2xx succeeds, 4xx fails for good, 5xx and time-outs retry.
   */
  public static final class Http implements TaskHandlerFactory {
    @Override
    public String name() {
      return "http";
    }

    @Override
    public TaskHandler create(String type, HandlerConfig config) {
      return HttpHandler.from(config);
    }
  }

  /**
   * {@code exec}: run a command with the item ID; exit 0 succeeds, retryable codes retry, others
   * fail.
   */
  public static final class Exec implements TaskHandlerFactory {
    @Override
    public String name() {
      return "exec";
    }

    @Override
    public TaskHandler create(String type, HandlerConfig config) {
      return ExecHandler.from(config);
    }
  }

  /**
   * {@code process}: long-lived child processes of {@code command} (any language) speaking
   * newline-delimited JSON; {@code processes} children, {@code inflight} attempts each.
   */
  public static final class Process implements TaskHandlerFactory {
    @Override
    public String name() {
      return "process";
    }

    @Override
    public TaskHandler create(String type, HandlerConfig config) {
      return ProcessHandler.from(type, config);
    }
  }
}
