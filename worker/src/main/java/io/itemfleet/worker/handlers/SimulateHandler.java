package io.itemfleet.worker.handlers;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sleeps for a latency drawn from a fixed value or a log-normal fitted to p50 and p99, then fails a
 * fraction of attempts (retryable) and a fraction of items (always, permanently, chosen by item ID
 * so that every attempt of such an item fails).
 */
final class SimulateHandler implements TaskHandler {
  /** Median latency in ms. */
  private final double p50;

  /** Log-normal sigma; 0 for a fixed latency. */
  private final double sigma;

  /** Fraction of attempts that fail, retryable. */
  private final double failureRate;

  /** Fraction of items that always fail, not retryable. */
  private final double permanentFailureRate;

  SimulateHandler(Duration p50, Duration p99, double failureRate, double permanentFailureRate) {
    this.p50 = p50.toNanos() / 1e6;
    // p99 = p50 * exp(2.326 sigma)
    this.sigma =
        p99.compareTo(p50) <= 0 || p50.isZero()
            ? 0
            : Math.log((double) p99.toNanos() / p50.toNanos()) / 2.326;
    this.failureRate = failureRate;
    this.permanentFailureRate = permanentFailureRate;
  }

  static SimulateHandler from(HandlerConfig c) {
    Duration p50 = Duration.ZERO;
    Duration p99 = Duration.ZERO;
    if (c.raw("latency") instanceof Map<?, ?>) {
      HandlerConfig l = HandlerConfig.of(c.path() + ".latency", c.map("latency"));
      p50 = l.duration("p50", Duration.ZERO);
      p99 = l.duration("p99", p50);
      l.rejectUnread();
    } else {
      p50 = c.duration("latency", Duration.ZERO);
      p99 = p50;
    }
    return new SimulateHandler(
        p50, p99, c.number("failureRate", 0, 0, 1), c.number("permanentFailureRate", 0, 0, 1));
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    double ms = sigma == 0 ? p50 : p50 * Math.exp(sigma * r.nextGaussian());
    if (ms > 0) {
      long nanos = (long) (ms * 1e6);
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    }
    if (permanentFailureRate > 0 && unitHash(ctx.job() + "/" + ctx.item()) < permanentFailureRate) {
      return HandlerResult.failed(
          "simulated.permanent", "simulated permanent failure of item " + ctx.item());
    }
    if (failureRate > 0 && r.nextDouble() < failureRate) {
      return HandlerResult.retry(
          "simulated.transient", "simulated transient failure (attempt " + ctx.attempt() + ")");
    }
    return HandlerResult.succeeded();
  }

  /** A stable number in [0, 1) per string. */
  static double unitHash(String s) {
    long h = 1125899906842597L;
    for (int i = 0; i < s.length(); i++) h = 31 * h + s.charAt(i);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }
}
