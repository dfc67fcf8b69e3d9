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
}
