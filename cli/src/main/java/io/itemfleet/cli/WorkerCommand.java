package io.itemfleet.cli;

import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.Durations;
import io.itemfleet.schemas.Redaction;
import io.itemfleet.schemas.TaskOptions;
import io.itemfleet.web.MetricsServer;
import io.itemfleet.worker.MicrometerWorkerMetrics;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.config.ConfigException;
import io.itemfleet.worker.config.ConfigReport;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
      names = "--redis-url",
      defaultValue = "${env:FLEET_REDIS_URL:-redis://localhost:6379}",
      description =
          "Redis for idempotency, cache keys, fleet-wide limits and checkpoints (env FLEET_REDIS_URL, default ${DEFAULT-VALUE}; rediss:// and redis://user:password@host work).")
  String redisUrl;

  @Option(
      names = "--no-redis",
      description =
          "Run without Redis: no deduplication (a redelivered item runs again), no cache keys, limits or checkpoints.")
  boolean noRedis;

  @Option(
      names = "--lease-ttl",
      defaultValue = "${env:FLEET_LEASE_TTL:-30s}",
      description =
          "How long a running item's Redis lease lasts without renewal; a dead worker's items run again after at most this (env FLEET_LEASE_TTL, default ${DEFAULT-VALUE}).")
  String leaseTtl;

  @Option(
      names = "--redis-markers",
      defaultValue = "${env:FLEET_REDIS_MARKERS:-keys}",
      description =
          "Where leases and done markers live: keys (one key per item) or buckets[:N] (fields of N hashes per job, default 256 (1024 before 2026-11-29: a fleet that ran plain buckets sets buckets:1024); several times less Redis memory per item; Redis 7+). Every worker of a fleet must use the same (env FLEET_REDIS_MARKERS, default ${DEFAULT-VALUE}).")
  String redisMarkers;

  @Option(
      names = "--redis-replicas-ack",
      defaultValue = "${env:FLEET_REDIS_REPLICAS_ACK:-0}",
      description =
          "Replicas that must acknowledge (WAIT) each pass's done markers before its outcomes are committed, so a failover to a replica keeps them; 0 does not wait. One primary with replicas or Sentinel only (env FLEET_REDIS_REPLICAS_ACK, default ${DEFAULT-VALUE}).")
  int redisReplicasAck;

  @Option(
      names = "--max-crashes",
      defaultValue = "${env:FLEET_MAX_CRASHES:-3}",
      description =
          "With --redis-markers buckets: after the workers running one item stopped this many times while it ran (out of memory, a kill; not System.exit, which stops a worker in order), the item is FAILED worker.crashed instead of run again, so one item cannot crash-loop every worker that takes its partition; 0 never gives up (env FLEET_MAX_CRASHES, default ${DEFAULT-VALUE}).")
  int maxCrashes;

  @Option(
      names = "--handlers",
      defaultValue = "${env:FLEET_HANDLERS}",
      description =
          "Load handler jars from this directory, each in its own class loader that sees only the"
              + " handler API (env FLEET_HANDLERS; the image's default is /app/handlers).")
  Path handlersDir;

  @Option(
      names = "--http-bind",
      defaultValue = "${env:FLEET_HTTP_BIND:-0.0.0.0}",
      description =
          "Address /metrics and /health listen on (env FLEET_HTTP_BIND, default ${DEFAULT-VALUE}:"
              + " every interface, as Prometheus exporters do; 127.0.0.1 for this machine only).")
  String httpBind;

  @Option(
      names = "--unknown-type-window",
      defaultValue = "${env:FLEET_UNKNOWN_TYPE_WINDOW:-1h}",
      description =
          "How long an item of a type this worker has no handler for is passed on (every minute,"
              + " or every quarter of a window under 4 minutes, through the retry topics, no attempt counted) for a worker that knows it, before"
              + " it is FAILED config.unknown_type; 0ms fails it at once (env"
              + " FLEET_UNKNOWN_TYPE_WINDOW, default ${DEFAULT-VALUE}).")
  String unknownTypeWindow;

  @Option(
      names = "--allow-no-types",
      description =
          "Start even when fleet.yaml declares no task types (such a worker can only pass items"
              + " on, and would fail every one after --unknown-type-window).")
  boolean allowNoTypes;

  @Option(
      names = "--retries",
      defaultValue = "${env:FLEET_RETRIES}",
      description = "Worker default: attempts after the first (env FLEET_RETRIES; built in: 3).")
  Integer retries;

  @Option(
      names = "--timeout",
      defaultValue = "${env:FLEET_TIMEOUT}",
      description = "Worker default: time-out per attempt (env FLEET_TIMEOUT; built in: 30s).")
  String timeout;

  @Option(
      names = "--jitter",
      defaultValue = "${env:FLEET_JITTER}",
      description =
          "Worker default: retry delay jitter in [0, 1] (env FLEET_JITTER; built in: 0.2).")
  Double jitter;

  @Option(
      names = "--idempotency-ttl",
      defaultValue = "${env:FLEET_IDEMPOTENCY_TTL}",
      description =
          "Worker default: how long done markers last (env FLEET_IDEMPOTENCY_TTL; built in: 7d).")
  String idempotencyTtl;

  @Option(
      names = "--print-config",
      description =
          "Print each task type's effective settings and where each came from, then exit.")
  boolean printConfig;

  @Spec CommandSpec spec;

  @Option(
      names = "--default-job",
      description = "Job of plain item IDs without a fleet-job header.")
  String defaultJob;

  @Option(
      names = "--default-type",
      description = "Type of plain item IDs without a fleet-type header.")
  String defaultType;

  /** Built-in defaults with the worker's flags and environment laid over; notes where from. */
  private TaskSettings workerDefaults(Map<String, String> sources) {
    TaskSettings d = TaskSettings.DEFAULTS;
    TaskOptions o = TaskOptions.NONE;
    if (retries != null) {
      o = o.withRetries(retries);
      sources.put("retries", from("--retries", "FLEET_RETRIES"));
    }
    if (timeout != null) {
      o = o.withTimeout(Durations.parse(timeout));
      sources.put("timeout", from("--timeout", "FLEET_TIMEOUT"));
    }
    if (jitter != null) {
      o = o.withJitter(jitter);
      sources.put("jitter", from("--jitter", "FLEET_JITTER"));
    }
    if (idempotencyTtl != null) {
      o = o.withIdempotencyTtl(Durations.parse(idempotencyTtl));
      sources.put("idempotencyTtl", from("--idempotency-ttl", "FLEET_IDEMPOTENCY_TTL"));
    }
    return d.with(o);
  }

  /** The worker-wide settings, as {@code --print-config} shows them (secrets masked). */
  private String workerReport() {
    StringBuilder sb = new StringBuilder("worker\n");
    java.util.function.BiConsumer<String, Object> line =
        (k, v) -> sb.append(String.format("  %-20s %s%n", k, Redaction.text(String.valueOf(v))));
    line.accept("bootstrap", kafka.bootstrap);
    line.accept("topic prefix", kafka.topicPrefix);
    line.accept("concurrency", concurrency);
    line.accept("worker id", workerId == null || workerId.isBlank() ? "(random)" : workerId);
    line.accept("drain timeout", drainTimeout);
    line.accept("lease ttl", leaseTtl);
    line.accept("redis markers", redisMarkers);
    line.accept("redis replicas ack", Integer.toString(redisReplicasAck));
    line.accept("max crashes", Integer.toString(maxCrashes));
    line.accept("unknown type window", unknownTypeWindow);
    line.accept(
        "default job / type",
        (defaultJob == null ? "-" : defaultJob)
            + " / "
            + (defaultType == null ? "-" : defaultType));
    line.accept("metrics", httpBind + ":" + metricsPort);
    line.accept("redis", noRedis ? "off (--no-redis)" : shownRedisUrl());
    return sb.toString();
  }

  /**
   * The Redis URL as printed: its password masked; not at all when it does not parse (a password
   * holding '/', '#' or a space, not percent-encoded, would slip past the mask).
   */
  private String shownRedisUrl() {
    try {
      io.itemfleet.worker.RedisClients.parse(redisUrl);
      return Redaction.text(redisUrl);
    } catch (IllegalArgumentException e) {
      return "(not shown: " + e.getMessage() + ")";
    }
  }

  private String from(String flag, String env) {
    return spec.commandLine().getParseResult().hasMatchedOption(flag) ? flag : "env " + env;
  }

  private static boolean usesCache(FleetConfig c) {
    return c.defaults().cacheKey().isPresent()
        || c.types().values().stream().anyMatch(t -> t.settings().cacheKey().isPresent());
  }

  @Override
  public Integer call() throws Exception {
    if (!noRedis) SecretFlags.url(System.err, "--redis-url", redisUrl, "FLEET_REDIS_URL");
    // Checked as names are (a record's own are), or every plain item would be POISON.
    for (String[] d : new String[][] {{"job", defaultJob}, {"type", defaultType}}) {
      if (d[1] != null) {
        Optional<String> problem = io.itemfleet.schemas.Names.problem(d[0], d[1]);
        if (problem.isPresent()) {
          throw new UsageException("--default-" + d[0] + ": " + Terminal.safe(problem.get()));
        }
      }
    }
    FleetConfig fleetConfig;
    WorkerSettings settings;
    HandlerRegistry handlers;
    try {
      Map<String, String> sources = new LinkedHashMap<>();
      TaskSettings base = workerDefaults(sources);
      fleetConfig = config == null ? FleetConfig.empty(base) : FleetConfig.load(config, base);
      if (noRedis && (!fleetConfig.limits().isEmpty() || usesCache(fleetConfig))) {
        throw new UsageException(
            "--no-redis: fleet.yaml declares "
                + (fleetConfig.limits().isEmpty() ? "cache keys" : "fleet-wide limits")
                + ", which need Redis");
      }
      handlers =
          HandlerRegistry.create(
              fleetConfig,
              Map.of(),
              handlersDir == null ? java.util.List.of() : java.util.List.of(handlersDir));
      if (fleetConfig.types().isEmpty() && !allowNoTypes && !printConfig) {
        throw new UsageException(
            (config == null
                    ? "no fleet.yaml given (--config or FLEET_CONFIG)"
                    : config + " declares no types")
                + ": this worker knows no task types and could only pass items on; give it a"
                + " fleet.yaml with types, or --allow-no-types");
      }
      if (printConfig) {
        if (!noRedis) fleetConfig.checkIdempotencyTtls();
        System.out.print(workerReport());
        System.out.print(ConfigReport.render(fleetConfig, sources));
        System.out.println(
            noRedis
                ? "Redis: off (--no-redis): no deduplication, cache keys, limits or checkpoints"
                : "Redis: " + shownRedisUrl() + " (idempotency, cache keys, limits, checkpoints)");
        handlers.close(); // their factories ran (that is the check); nothing else will use them
        return 0;
      }
      String id =
          workerId == null || workerId.isBlank()
              ? "w-" + UUID.randomUUID().toString().substring(0, 8)
              : workerId;
      settings =
          WorkerSettings.defaults(kafka.clientProperties(), kafka.topics(), id, concurrency)
              .withDefaultsForPlainIds(
                  Optional.ofNullable(defaultJob), Optional.ofNullable(defaultType))
              .withDrainTimeout(Durations.parse(drainTimeout))
              .withStaticMembership(workerId != null && !workerId.isBlank())
              .withRedis(
                  noRedis
                      ? Optional.empty()
                      : Optional.of(io.itemfleet.worker.RedisClients.parse(redisUrl)))
              .withLeaseTtl(Durations.parse(leaseTtl))
              .withMarkerLayout(io.itemfleet.worker.MarkerLayout.parse(redisMarkers))
              .withRedisReplicasAck(redisReplicasAck)
              .withMaxCrashes(maxCrashes)
              .withUnknownTypeWindow(Durations.parse(unknownTypeWindow));
      if (!noRedis) fleetConfig.checkIdempotencyTtls();
    } catch (ConfigException e) {
      throw new UsageException(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    try (TopicAdmin admin =
        new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
      admin.checkReachable(kafka.bootstrap);
      admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Worker worker;
    try {
      worker = Worker.start(settings, fleetConfig, handlers, new MicrometerWorkerMetrics(registry));
    } catch (ConfigException e) {
      throw new CliFailure(3, "fleet worker: " + e.getMessage());
    }
    MetricsServer metrics =
        metricsPort < 0
            ? null
            : MetricsServer.start(
                httpBind, metricsPort, registry, worker::isHealthy, worker::isLive);
    System.err.printf(
        "fleet worker %s: concurrency %d, topics %s.*, types [%s], %s%s%n",
        settings.workerId(),
        concurrency,
        kafka.topicPrefix,
        String.join(", ", fleetConfig.types().keySet()),
        noRedis ? "without Redis (no deduplication)" : "Redis " + Redaction.text(redisUrl),
        metrics == null ? "" : ", metrics on :" + metrics.port());
    // SIGTERM and SIGINT drain, then return 0 from here (a JVM shutdown hook would exit 143).
    StopSignal stop = StopSignal.install();
    Thread hook =
        new Thread(
            () -> {
              worker.close();
              handlers.close(); // after the drain: a child still running is stopped with it
              if (metrics != null) metrics.close();
            },
            "fleet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook); // other ways out (SIGHUP, System.exit elsewhere)
    while (!worker.awaitTermination(Duration.ofMillis(200))) {
      if (stop.requested()) {
        System.err.printf("fleet worker %s: %s, draining%n", settings.workerId(), stop.name());
        worker.close();
        break;
      }
    }
    handlers.close();
    if (metrics != null) metrics.close();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook runs (or ran) anyway; close() twice is harmless
    }
    if (worker.failure().isPresent()) {
      System.err.println("fleet worker: stopped: " + worker.failure().get().getMessage());
      return 1;
    }
    return 0;
  }
}
