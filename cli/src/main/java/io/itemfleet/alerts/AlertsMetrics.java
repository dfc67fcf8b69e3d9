package io.itemfleet.alerts;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/** What {@code fleet alerts} counts, on its {@code /metrics}. */
public final class AlertsMetrics {
  final Counter events;
  final Counter malformed;
  final Counter webhookErrors;
  final Counter dropped;
  private final MeterRegistry registry;
  final AtomicLong webhookUp = new AtomicLong(1);
  final AtomicLong pending = new AtomicLong();

  public AlertsMetrics(MeterRegistry registry) {
    this.registry = registry;
    events =
        Counter.builder("fleet_alerts_events")
            .description("failure events read from the failure topic")
            .register(registry);
    malformed =
        Counter.builder("fleet_alerts_malformed")
            .description("records on the failure topic that are no failure event; skipped")
            .register(registry);
    webhookErrors =
        Counter.builder("fleet_alerts_webhook_errors")
            .description("webhook deliveries that got no 2xx answer (each is retried)")
            .register(registry);
    dropped =
        Counter.builder("fleet_alerts_dropped")
            .description(
                "alerts the receiver refused for good when sent alone (400, 413, 415, 422);"
                    + " logged, not retried")
            .register(registry);
    Gauge.builder("fleet_alerts_webhook_up", webhookUp, AtomicLong::get)
        .strongReference(true)
        .description("1 when the last delivery got a 2xx answer, 0 while deliveries fail")
        .register(registry);
    Gauge.builder("fleet_alerts_pending_failures", pending, AtomicLong::get)
        .strongReference(true)
        .description("failures counted and waiting for the next window's summary")
        .register(registry);
  }

  void sent(Alert.Kind kind, int n) {
    Counter.builder("fleet_alerts_sent")
        .description("alerts delivered (a 2xx answer), by kind")
        .tag("kind", kind.name())
        .register(registry)
        .increment(n);
  }
}
