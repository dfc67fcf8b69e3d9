package io.itemfleet.cli;

import io.itemfleet.alerts.AlertsLoop;
import io.itemfleet.alerts.AlertsMetrics;
import io.itemfleet.alerts.Webhook;
import io.itemfleet.alerts.WebhookFormat;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.Durations;
import io.itemfleet.web.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fleet alerts}: failure events to a webhook, deduplicated, at least once. */
@Command(
    name = "alerts",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Post the failure topic's events to a webhook, deduplicated per (job, fingerprint): the first"
          + " failure of a fingerprint and every POISON record at once, later ones summarised"
          + " per --window with counts. At least once: offsets commit only after a 2xx answer;"
          + " a webhook outage is retried with backoff and nothing is dropped.",
      "Set the URL in FLEET_ALERTS_WEBHOOK rather than --webhook: `ps` shows flags, and"
          + " Slack-style URLs carry their secret."
    })
final class AlertsCommand implements Callable<Integer> {
  @Mixin KafkaOptions kafka;

  @Option(
      names = "--webhook",
      defaultValue = "${env:FLEET_ALERTS_WEBHOOK}",
      description = "Where alerts are posted (env FLEET_ALERTS_WEBHOOK; http:// or https://).")
  String webhook;

  @Option(
      names = "--format",
      defaultValue = "${env:FLEET_ALERTS_FORMAT:-generic}",
      description =
          "generic (JSON {\"alerts\": [...]}), slack ({\"text\": ...}) or alertmanager (API v2"
              + " alerts; point --webhook at /api/v2/alerts) (env FLEET_ALERTS_FORMAT, default"
              + " ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--window",
      defaultValue = "5m",
      description =
          "How often later failures of a fingerprint are summarised (default ${DEFAULT-VALUE}).")
  String window;

  @Option(
      names = "--group",
      description =
          "Consumer group (default <prefix>.alerts). Two alerters in one group share the work.")
  String group;

  @Option(
      names = "--from-beginning",
      description = "A new group starts at the failure topic's beginning (default: its end).")
  boolean fromBeginning;

  @Option(
      names = "--metrics-port",
      defaultValue = "${env:FLEET_METRICS_PORT:-9402}",
      description =
          "Port for /metrics and /health (env FLEET_METRICS_PORT, default ${DEFAULT-VALUE}; -1 disables).")
  int metricsPort;

  @Option(
      names = "--http-bind",
      defaultValue = "${env:FLEET_HTTP_BIND:-0.0.0.0}",
      description =
          "Address /metrics and /health listen on (env FLEET_HTTP_BIND, default ${DEFAULT-VALUE}).")
  String httpBind;

  @Override
  public Integer call() throws Exception {
    SecretFlags.password(System.err, "--webhook", webhook, "FLEET_ALERTS_WEBHOOK");
    if (webhook == null || webhook.isBlank()) {
      throw new UsageException("no webhook: set FLEET_ALERTS_WEBHOOK (or --webhook) to a URL");
    }
    Webhook hook;
    Duration every;
    String url = webhook.trim();
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      // Not the parser's message: it quotes the URL, and with it the token most webhooks hold.
      throw new UsageException(
          "--webhook (FLEET_ALERTS_WEBHOOK) is not a valid URL: "
              + e.getReason()
              + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1) : ""));
    }
    try {
      hook = new Webhook(uri, WebhookFormat.parse(format));
      every = Durations.parse(window);
      if (every.compareTo(Duration.ofSeconds(1)) < 0 || every.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("--window must be between 1s and 24h, was " + window);
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          e.getMessage().replace(url, "<webhook>").replace(webhook, "<webhook>"));
    }
    try (TopicAdmin admin =
        new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
      admin.checkReachable(kafka.bootstrap);
      admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AlertsLoop loop =
        new AlertsLoop(
            kafka.clientProperties(),
            kafka.topics(),
            group != null ? group : kafka.topicPrefix + ".alerts",
            fromBeginning,
            every,
            hook,
            new AlertsMetrics(registry));
    Thread thread = loop.start();
    MetricsServer metrics =
        metricsPort < 0
            ? null
            : MetricsServer.start(httpBind, metricsPort, registry, thread::isAlive);
    System.err.printf(
        "fleet alerts: %s.failures -> %s (%s, summaries every %s)%s%n",
        kafka.topicPrefix,
        hook.where(),
        format,
        window,
        metrics == null ? "" : "; /metrics and /health on port " + metrics.port());
    StopSignal stop = StopSignal.install();
    try {
      while (!loop.awaitTermination(Duration.ofMillis(200))) {
        if (stop.requested()) {
          System.err.printf(
              "fleet alerts: %s, delivering and committing, then stopping%n", stop.name());
          loop.stop();
          loop.awaitTermination(AlertsLoop.STOP_BUDGET);
          return 0;
        }
      }
    } finally {
      if (metrics != null) metrics.close();
    }
    if (loop.failure() != null) {
      throw new CliFailure(1, "fleet alerts stopped: " + loop.failure());
    }
    return 0;
  }
}
