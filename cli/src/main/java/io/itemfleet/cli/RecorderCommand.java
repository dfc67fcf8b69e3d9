package io.itemfleet.cli;

import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.Durations;
import io.itemfleet.web.MetricsServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fleet recorder}: the long-running state recorder. SIGTERM stops after the batch. */
@Command(
    mixinStandardHelpOptions = true,
    name = "recorder",
    sortOptions = false,
    description =
        "Run the state recorder: write failures and job aggregates to PostgreSQL, exactly once.")
final class RecorderCommand implements Callable<Integer> {
  @Mixin KafkaOptions kafka;
  @Mixin DbOptions db;

  @Option(
      names = "--retention",
      defaultValue = "${env:FLEET_RETENTION:-30d}",
      description =
          "Delete failures and aggregates older than this (env FLEET_RETENTION, default ${DEFAULT-VALUE}; 0 keeps all).")
  String retention;

  @Option(
      names = "--metrics-port",
      defaultValue = "${env:FLEET_METRICS_PORT:-9401}",
      description =
          "Port for /metrics and /health (env FLEET_METRICS_PORT, default ${DEFAULT-VALUE}; 0 picks one, -1 disables).")
  int metricsPort;

  @Option(
      names = "--http-bind",
      defaultValue = "${env:FLEET_HTTP_BIND:-0.0.0.0}",
      description =
          "Address the HTTP port (page, API, /metrics, /health) listens on (env FLEET_HTTP_BIND,"
              + " default ${DEFAULT-VALUE}: every interface; 127.0.0.1 for this machine only).")
  String httpBind;

  @Option(
      names = "--marker-grace",
      defaultValue = "${env:FLEET_MARKER_GRACE:-}",
      description =
          "Expire a completed job's done markers this long after its completion (e.g. 1h), instead of after the idempotency TTL: one PEXPIRE per bucket of the job. Needs FLEET_REDIS_URL and FLEET_REDIS_MARKERS=buckets; at least 2m (env FLEET_MARKER_GRACE, default: off).")
  String markerGrace;

  @Option(
      names = "--start-timeout",
      defaultValue = "5m",
      description = "How long to wait for PostgreSQL at start (default ${DEFAULT-VALUE}).")
  String startTimeout;

  /** The recorder's metrics: records applied, and whether it is healthy. */
  static PrometheusMeterRegistry registry(Recorder recorder) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Gauge.builder("fleet_recorder_applied_records", recorder, r -> r.applied())
        .strongReference(true)
        .description("records applied to the ledger by this recorder")
        .register(registry);
    Gauge.builder("fleet_recorder_healthy", recorder, r -> r.isHealthy() ? 1 : 0)
        .strongReference(true)
        .description("1 while PostgreSQL and Kafka are reachable")
        .register(registry);
    return registry;
  }

  @Override
  public Integer call() throws Exception {
    RecordForms.fromEnvironment(); // the console's replays send in it: refuse a bad value at start
    RecorderSettings settings;
    Duration wait;
    io.itemfleet.worker.MarkerExpiry expiry = null;
    try {
      if (!markerGrace.isBlank()) {
        String url = System.getenv("FLEET_REDIS_URL");
        if (url == null || url.isBlank()) {
          throw new IllegalArgumentException(
              "--marker-grace expires done markers in Redis: set FLEET_REDIS_URL too");
        }
        expiry =
            new io.itemfleet.worker.MarkerExpiry(
                io.itemfleet.worker.RedisClients.parse(url),
                io.itemfleet.worker.MarkerLayout.parse(
                    System.getenv().getOrDefault("FLEET_REDIS_MARKERS", "keys")),
                kafka.topicPrefix,
                Durations.parse(markerGrace));
      }
      Duration keep = "0".equals(retention) ? Duration.ZERO : Durations.parse(retention);
      wait = Durations.parse(startTimeout);
      settings =
          RecorderSettings.defaults(kafka.clientProperties(), kafka.topics(), db.settings())
              .withRetention(keep, Duration.ofHours(1));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    } catch (redis.clients.jedis.exceptions.JedisException e) {
      throw new CliFailure(
          3,
          "fleet recorder: --marker-grace: cannot reach Redis at "
              + io.itemfleet.schemas.Redaction.text(System.getenv("FLEET_REDIS_URL"))
              + ": "
              + e.getMessage());
    }
    try (TopicAdmin admin =
        new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
      admin.checkReachable(kafka.bootstrap);
      admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
    }
    if (metricsPort >= 0) {
      // Before the recorder starts: a token no request can match stops the command at once.
      RecorderWeb.checkToken(Optional.ofNullable(System.getenv("FLEET_API_TOKEN")));
    }
    Recorder recorder;
    try {
      io.itemfleet.worker.MarkerExpiry e = expiry;
      recorder = Recorder.start(settings, wait, e == null ? j -> {} : j -> e.jobCompleted(j.job()));
    } catch (SQLException e) {
      throw new CliFailure(
          3,
          "cannot use PostgreSQL at "
              + settings.db()
              + ": "
              + io.itemfleet.schemas.Redaction.text(e.getMessage()));
    }
    PrometheusMeterRegistry registry = registry(recorder);
    MetricsServer metrics =
        metricsPort < 0
            ? null
            : MetricsServer.start(httpBind, metricsPort, registry, recorder::isHealthy);
    RecorderWeb web = null;
    if (metrics != null) {
      // Read here, in main, like every setting; never a flag, which `ps` would show. Replay from
      // the API checks done markers in FLEET_REDIS_URL when it is set.
      web =
          RecorderWeb.serve(
              metrics,
              settings.db(),
              kafka.clientProperties(),
              kafka.topics(),
              Optional.ofNullable(System.getenv("FLEET_API_TOKEN")),
              Optional.ofNullable(System.getenv("FLEET_REDIS_URL"))
                  .filter(u -> !u.isBlank())
                  .map(io.itemfleet.worker.RedisClients::parse));
    }
    RecorderWeb webSide = web;
    io.itemfleet.worker.MarkerExpiry markerExpiry = expiry;
    System.err.printf(
        "fleet recorder: %s.{stats,failures,jobs} -> %s%s%n",
        kafka.topicPrefix,
        settings.db(),
        metrics == null
            ? ""
            : ", jobs page, API and metrics on http://localhost:" + metrics.port() + "/");
    StopSignal stop = StopSignal.install(); // SIGTERM/SIGINT: close, then exit 0 (not 143)
    Thread hook =
        new Thread(
            () -> {
              recorder.close();
              if (markerExpiry != null) markerExpiry.close();
              if (metrics != null) metrics.close();
              if (webSide != null) webSide.close();
            },
            "fleet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    while (!recorder.awaitTermination(Duration.ofMillis(200))) {
      if (stop.requested()) {
        System.err.printf("fleet recorder: %s, stopping%n", stop.name());
        break;
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
      hook.run();
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook runs anyway
    }
    if (recorder.failure().isPresent()) {
      System.err.println("fleet recorder: stopped: " + recorder.failure().get().getMessage());
      return 1;
    }
    return 0;
  }
}
