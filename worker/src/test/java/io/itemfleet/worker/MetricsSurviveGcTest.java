package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MetricsSurviveGcTest {
  @Test
  void gaugesAndFunctionCountersStillReadAfterGarbageCollection() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    WorkerMetrics m = new MicrometerWorkerMetrics(registry);
    AtomicLong value = new AtomicLong(7);
    // Inline lambdas, as the worker passes them: nothing else refers to them.
    m.gauges(() -> value.get(), () -> value.get() + 1, () -> value.get() + 2);
    m.redis(() -> value.get() + 3, () -> value.get() + 4, () -> 1, () -> value.get() + 5);
    for (int i = 0; i < 5; i++) {
      System.gc();
      byte[][] churn = new byte[64][];
      for (int j = 0; j < churn.length; j++) churn[j] = new byte[1 << 20];
      Thread.sleep(20);
    }
    String text = registry.scrape();
    assertThat(text)
        .contains("fleet_inflight 7.0")
        .contains("fleet_consumer_lag 8.0")
        .contains("fleet_handlers_overdue 9.0")
        .contains("fleet_redis_roundtrips_total 10.0")
        .contains("fleet_redis_checked_total 11.0")
        .contains("fleet_redis_up 1.0")
        .contains("fleet_leases_lost_total 12.0")
        .doesNotContain("NaN");
    java.lang.ref.Reference.reachabilityFence(m); // the worker keeps its metrics object too
  }

  /**
   * Type names come from messages, and POISON and FAILED ones are counted under whatever type they
   * name: a stream of made-up type names made one meter each, without end (heap, /metrics size).
   * Past {@value MicrometerWorkerMetrics#MAX_TYPES} distinct types the rest count as "(other)".
   */
  @Test
  void madeUpTypeNamesCannotGrowTheMetricsWithoutBound() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    WorkerMetrics m = new MicrometerWorkerMetrics(registry);
    int extra = 300;
    for (int i = 0; i < MicrometerWorkerMetrics.MAX_TYPES + extra; i++) {
      m.outcome("made-up-" + i, io.itemfleet.schemas.Outcome.POISON);
      m.retry("made-up-" + i);
      m.handlerTime("made-up-" + i, 1_000_000);
    }
    m.outcome("made-up-0", io.itemfleet.schemas.Outcome.POISON); // one seen before keeps its own
    assertThat(registry.find("fleet.items").counters())
        .hasSize(MicrometerWorkerMetrics.MAX_TYPES + 1);
    assertThat(registry.find("fleet.retries").counters())
        .hasSize(MicrometerWorkerMetrics.MAX_TYPES + 1);
    assertThat(registry.find("fleet.item.duration").timers())
        .hasSize(MicrometerWorkerMetrics.MAX_TYPES + 1);
    assertThat(registry.get("fleet.items").tag("type", "(other)").counter().count())
        .isEqualTo(extra);
    assertThat(registry.get("fleet.items").tag("type", "made-up-0").counter().count()).isEqualTo(2);
  }
}
