package io.itemfleet.cli;

import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.worker.ConfigException;
import io.itemfleet.worker.FleetConfig;
import io.itemfleet.worker.HandlerRegistry;
import io.itemfleet.worker.MetricsServer;
import io.itemfleet.worker.MicrometerWorkerMetrics;
import io.itemfleet.worker.TaskSettings;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fleet worker}: the long-running worker service. SIGTERM drains and exits. */
@Command(
    mixinStandardHelpOptions = true,
    name = "worker",
    sortOptions = false,
    description =
        "Run a worker: consume tasks, run handlers, commit outcomes exactly once. SIGTERM drains.")
final class WorkerCommand implements Callable<Integer> {
  @Mixin KafkaOptions kafka;

  @Option(
      names = "--config",
      defaultValue = "${env:FLEET_CONFIG}",
      description = "fleet.yaml: task types, handlers, retries (env FLEET_CONFIG).")
  Path config;

  @Option(
      names = "--concurrency",
      defaultValue = "${env:FLEET_CONCURRENCY:-256}",
      description = "Items in flight at most (env FLEET_CONCURRENCY, default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--worker-id",
      defaultValue = "${env:FLEET_WORKER_ID}",
      description =
          "Stable ID per replica (env FLEET_WORKER_ID); a restart with the same ID recovers at once. Default: random.")
  String workerId;

  @Option(
      names = "--metrics-port",
      defaultValue = "${env:FLEET_METRICS_PORT:-9400}",
      description =
          "Port for /metrics and /health (env FLEET_METRICS_PORT, default ${DEFAULT-VALUE}; 0 picks one, -1 disables).")
  int metricsPort;

  @Option(
      names = "--drain-timeout",
      defaultValue = "30s",
      description = "How long SIGTERM waits for in-flight items (default ${DEFAULT-VALUE}).")
  String drainTimeout;

  @Option(
      names = "--default-job",
      description = "Job of plain item IDs without a fleet-job header.")
  String defaultJob;

  @Option(
      names = "--default-type",
      description = "Type of plain item IDs without a fleet-type header.")
  String defaultType;

  @Override
  public Integer call() throws Exception {
    FleetConfig fleetConfig;
    WorkerSettings settings;
    HandlerRegistry handlers;
    try {
      fleetConfig =
          config == null
              ? FleetConfig.empty(TaskSettings.DEFAULTS)
              : FleetConfig.load(config, TaskSettings.DEFAULTS);
      handlers = HandlerRegistry.create(fleetConfig, Map.of());
      String id =
          workerId == null || workerId.isBlank()
              ? "w-" + UUID.randomUUID().toString().substring(0, 8)
              : workerId;
      settings =
          WorkerSettings.defaults(kafka.clientProperties(), kafka.topics(), id, concurrency)
              .withDefaultsForPlainIds(
                  Optional.ofNullable(defaultJob), Optional.ofNullable(defaultType))
              .withDrainTimeout(io.itemfleet.schemas.Durations.parse(drainTimeout))
              .withStaticMembership(workerId != null && !workerId.isBlank());
    } catch (ConfigException e) {
      throw new UsageException(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try (TopicAdmin admin =
        new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
      admin.checkReachable(kafka.bootstrap);
      admin.ensureTopics(kafka.partitions, (short) 1);
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Worker worker =
        Worker.start(settings, fleetConfig, handlers, new MicrometerWorkerMetrics(registry));
    MetricsServer metrics =
        metricsPort < 0 ? null : MetricsServer.start(metricsPort, registry, worker::isRunning);
    System.err.printf(
        "fleet worker %s: concurrency %d, topics %s.*, types [%s]%s%n",
        settings.workerId(),
        concurrency,
        kafka.topicPrefix,
        String.join(", ", fleetConfig.types().keySet()),
        metrics == null ? "" : ", metrics on :" + metrics.port());
    Thread hook =
        new Thread(
            () -> {
              worker.close();
              if (metrics != null) metrics.close();
            },
            "fleet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    while (!worker.awaitTermination(Duration.ofSeconds(1))) {
      // runs until SIGTERM (the hook drains) or a fatal error
    }
    if (worker.failure().isPresent()) {
      System.err.println("fleet worker: stopped: " + worker.failure().get().getMessage());
      return 1;
    }
    return 0;
  }
}
