package io.itemfleet.worker;

import java.util.Map;
import java.util.Set;

/** The handlers every worker has: {@code noop}, {@code simulate}, {@code http}, {@code exec}. */
public final class BuiltInHandlers {
  private BuiltInHandlers() {}

  /** {@code noop}: succeeds at once. For benchmarks and smoke tests. */
  public static final class Noop implements TaskHandlerFactory {
    @Override
    public String name() {
      return "noop";
    }

    @Override
    public TaskHandler create(String type, Map<String, Object> config) {
      new HandlerConfig(config, Set.of());
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
    public TaskHandler create(String type, Map<String, Object> config) {
      return SimulateHandler.from(
          new HandlerConfig(config, Set.of("latency", "failureRate", "permanentFailureRate")));
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
    public TaskHandler create(String type, Map<String, Object> config) {
      return HttpHandler.from(
          new HandlerConfig(config, Set.of("url", "headers", "maxResponseBytes")));
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
    public TaskHandler create(String type, Map<String, Object> config) {
      return ExecHandler.from(new HandlerConfig(config, Set.of("command", "retryExitCodes")));
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
    public TaskHandler create(String type, Map<String, Object> config) {
      return ProcessHandler.from(
          type, new HandlerConfig(config, Set.of("command", "processes", "inflight")));
    }
  }
}
