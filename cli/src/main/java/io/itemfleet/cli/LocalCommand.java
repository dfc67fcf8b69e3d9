package io.itemfleet.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.embedded.EmbeddedStack;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.FailureGroup;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.Durations;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.web.MetricsServer;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fleet local}: the whole system in this JVM on embedded real servers, with a demo job.
 *
 * <p>Start order: Kafka, Redis and PostgreSQL; topics; the recorder; the workers; the demo job.
 * Stop order, the reverse: workers drain, recorder, servers.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "local",
    sortOptions = false,
    description = {
      "Run the whole system and a demo job in this JVM, on embedded servers.",
      "Starts real Kafka (KRaft), Redis and PostgreSQL in-process, creates topics, starts a",
      "recorder and workers, runs a demo job of the simulate handler with live progress, prints",
      "the job summary and exits 0. Nothing to install but a JDK >= 21.",
      "With --keep-running everything stays up and the addresses are printed, so that fleet",
      "produce, status, failures and replay work from another terminal.",
      "Data lives under --data-dir (wiped at start unless --keep-data)."
    })
final class LocalCommand implements Callable<Integer> {
  @Option(
      names = "--items",
      defaultValue = "20000",
      description = "Items in the demo job (default ${DEFAULT-VALUE}; 0 for none).")
  int items;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description = "Worker instances (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(
      names = "--concurrency",
      defaultValue = "256",
      description = "Items in flight per worker (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--latency",
      defaultValue = "20ms",
      description = "Median handler latency; p99 is 5 times it (default ${DEFAULT-VALUE}).")
  String latency;

  @Option(
      names = "--failure-rate",
      defaultValue = "0.01",
      description =
          "Fraction of items that fail for good (default ${DEFAULT-VALUE}); another 2% of attempts fail once and are retried.")
  double failureRate;

  @Option(
      names = "--partitions",
      defaultValue = "12",
      description = "Partitions per topic (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--data-dir",
      defaultValue = "${env:FLEET_LOCAL_DIR:-${sys:user.home}/.itemfleet/local}",
      description =
          "Where the servers keep their data (env FLEET_LOCAL_DIR, default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--keep-data", description = "Keep what an earlier run left in --data-dir.")
  boolean keepData;

  @Option(
      names = "--keep-running",
      description = "Stay up after the demo job (Ctrl-C stops) and print the addresses.")
  boolean keepRunning;

  @Option(
      names = "--http-port",
      defaultValue = "19401",
      description =
          "Port of the jobs page and API (/, /api/jobs) (default ${DEFAULT-VALUE}; 0 picks one, -1 disables).")
  int httpPort;

  @Option(
      names = "--verbose",
      description = "Show the embedded servers' and the fleet's logs here instead of in a file.")
  boolean verbose;

  @Option(
      names = "--kafka-port",
      defaultValue = "19092",
      description = "Kafka's port (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int kafkaPort;

  @Option(
      names = "--redis-port",
      defaultValue = "16379",
      description = "Redis's port (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int redisPort;

  @Option(
      names = "--postgres-port",
      defaultValue = "15432",
      description = "PostgreSQL's port (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int postgresPort;

  @Override
  public Integer call() throws Exception {
    if (!embeddedServersPresent()) {
      throw new UsageException(
          "fleet local is not in this jar: the production fleet.jar (the container image's) leaves"
              + " out the embedded Kafka, Redis and PostgreSQL. Run ./fleet local from a source"
              + " checkout (it uses cli/target/fleet-local.jar).");
    }
    Duration p50;
    try {
      p50 = Durations.parse(latency);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--latency: " + e.getMessage());
    }
    if (items < 0 || workers < 1 || concurrency < 1 || partitions < 1) {
      throw new UsageException("--items must be >= 0; --workers, --concurrency, --partitions >= 1");
    }
    if (!(failureRate >= 0 && failureRate <= 1)) {
      throw new UsageException("--failure-rate must be in [0, 1], was " + failureRate);
    }
    PrintStream out = System.out;
    if (!keepData) wipe(dataDir);
    claim(dataDir);
    if (!verbose) {
      Path logFile = LogToFile.redirect(dataDir.resolve("fleet-local.log"));
      out.printf(
          "fleet local: server and worker logs go to %s (--verbose shows them here)%n", logFile);
    }
    out.printf("fleet local: starting Kafka, Redis and PostgreSQL under %s ...%n", dataDir);
    long t0 = System.nanoTime();
    List<Worker> running = new ArrayList<>();
    Recorder[] recorder = new Recorder[1];
    MetricsServer[] web = new MetricsServer[1];
    RecorderWeb[] webSide = new RecorderWeb[1];
    EmbeddedStack stack = EmbeddedStack.start(dataDir, true, kafkaPort, redisPort, postgresPort);
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              interrupted.countDown();
              try {
                stopped.await(90, java.util.concurrent.TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "fleet-local-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      FleetTopics topics = new FleetTopics("fleet");
      Map<String, Object> kafka = Map.of("bootstrap.servers", stack.kafkaBootstrap());
      try (TopicAdmin admin = new TopicAdmin(kafka, topics, Duration.ofSeconds(30))) {
        admin.ensureTopics(partitions, (short) 1);
      }
      DbSettings db = new DbSettings(stack.jdbcUrl("fleet"), "postgres", "");
      recorder[0] =
          Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofMinutes(1));
      if (httpPort >= 0) {
        Recorder rec = recorder[0];
        // Loopback only, like the embedded servers: the page and API show items and payloads.
        web[0] =
            MetricsServer.start(
                "127.0.0.1", httpPort, RecorderCommand.registry(rec), rec::isHealthy);
        webSide[0] =
            RecorderWeb.serve(
                web[0],
                db,
                kafka,
                topics,
                Optional.ofNullable(System.getenv("FLEET_API_TOKEN")),
                Optional.of(URI.create(stack.redisUrl())));
      }
      FleetConfig config = FleetConfig.parse(demoYaml(p50), TaskSettings.DEFAULTS);
      HandlerRegistry handlers = HandlerRegistry.create(config, Map.of());
      for (int i = 1; i <= workers; i++) {
        running.add(
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "local-" + i, concurrency)
                    .withRedis(Optional.of(URI.create(stack.redisUrl()))),
                config,
                handlers,
                WorkerMetrics.NONE));
      }
      out.printf(
          "fleet local: up in %.1f s: %d workers × concurrency %d, recorder, %d partitions%s%n",
          (System.nanoTime() - t0) / 1e9,
          workers,
          concurrency,
          partitions,
          web[0] == null ? "" : "; jobs page on http://127.0.0.1:" + web[0].port() + "/");
      int code = 0;
      if (items > 0) code = demo(kafka, topics, db, out);
      if (keepRunning) {
        printAddresses(out, stack.kafkaBootstrap(), stack.redisUrl(), stack.jdbcUrl("fleet"));
        interrupted.await(); // until Ctrl-C or SIGTERM
      }
      return code;
    } finally {
      out.println("fleet local: stopping (workers drain first) ...");
      running.forEach(Worker::close);
      if (web[0] != null) web[0].close();
      if (webSide[0] != null) webSide[0].close();
      if (recorder[0] != null) recorder[0].close();
      stack.close();
      out.println("fleet local: stopped");
      stopped.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook is waiting for us and returns now
      }
    }
  }

  /** Produces the demo job, follows it to the end and prints its summary. */
  private int demo(Map<String, Object> kafka, FleetTopics topics, DbSettings db, PrintStream out)
      throws Exception {
    String job = "demo-" + Instant.now().toString().replaceAll("[-:]", "").substring(0, 15);
    long t0 = System.nanoTime();
    try (TaskProducer producer = new TaskProducer(kafka, topics)) {
      ProduceRun run = producer.startRun(job, "sim", Map.of("source", "fleet local"));
      for (int i = 1; i <= items; i++) run.submit("item-" + i);
      ProduceRun.Result r = run.finish(Duration.ofMinutes(2));
      if (!r.complete()) {
        System.err.println("fleet local: could not enqueue the demo job: " + r.firstError());
        return 1;
      }
    }
    out.printf("fleet local: enqueued job %s: %s items of type sim%n", job, Terminal.count(items));
    try (HikariDataSource ds = LedgerDatabase.pool(db, 2, "fleet-local")) {
      LedgerQueries q = new LedgerQueries(ds);
      long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
      if (!WatchCommand.follow(q, job, Duration.ofMillis(500), deadline, out)) {
        System.err.println("fleet local: the demo job did not finish within 30 minutes");
        return 1;
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      JobStatus s = q.job(job).orElseThrow();
      out.printf(
          Locale.ROOT,
          "throughput: %s items/s (%s items in %.1f s, enqueue to done)%n",
          Terminal.count(Math.round(s.finished() / secs)),
          Terminal.count(s.finished()),
          secs);
      List<FailureGroup> groups = q.failureGroups(job, 3);
      if (!groups.isEmpty()) out.println("top failure fingerprints:");
      for (FailureGroup g : groups.subList(0, Math.min(3, groups.size()))) {
        out.printf(
            Locale.ROOT,
            "  %s  %s × %s: %s (e.g. %s)%n",
            g.fingerprint(),
            Terminal.count(g.count()),
            g.errorClass(),
            g.normalisedMessage(),
            String.join(", ", g.sampleItems()));
      }
      out.printf(
          "see them with: fleet failures %s; re-drive them with: fleet replay %s%n", job, job);
    }
    return 0;
  }

  private String demoYaml(Duration p50) {
    return String.format(
        Locale.ROOT,
        """
        types:
          sim:
            handler: simulate
            latency: {p50: %s, p99: %s}
            failureRate: 0.02
            permanentFailureRate: %s
            retries: 2
            retryDelays: [200ms, 1s]
            timeout: 30s
        """,
        Durations.format(p50),
        Durations.format(p50.multipliedBy(5)),
        failureRate);
  }

  // Strings, not the EmbeddedStack: picocli reflects on this class's methods, and the production
  // jar has no EmbeddedStack (a signature naming it would break every command there).
  private static void printAddresses(PrintStream out, String kafka, String redis, String jdbc) {
    out.printf(
        """
        fleet local: running; Ctrl-C stops. From another terminal, set these and use fleet:
          export FLEET_KAFKA_BOOTSTRAP=%s
          export FLEET_REDIS_URL=%s
          export FLEET_DB_URL=%s FLEET_DB_USER=postgres
          ./fleet produce --job my-job --type sim --range 1..1000
          ./fleet watch my-job; ./fleet status; ./fleet failures my-job
        %n""",
        kafka, redis, jdbc);
  }

  /** False in the production jar, which is built without the embedded servers (cli/pom.xml). */
  static boolean embeddedServersPresent() {
    try {
      Class.forName(
          "io.itemfleet.embedded.EmbeddedStack", false, LocalCommand.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** The file that marks a directory as fleet local's own, so that only such a one is wiped. */
  static final String MARKER = ".itemfleet-local";

  /** Creates the data directory, or checks an existing one is ours, and marks it. */
  static void claim(Path dir) throws IOException {
    Files.createDirectories(dir);
    if (!Files.exists(dir.resolve(MARKER))) {
      try (Stream<Path> entries = Files.list(dir)) {
        List<String> names = entries.map(p -> p.getFileName().toString()).sorted().toList();
        if (!names.isEmpty()) throw notOurs(dir, names);
      }
      Files.writeString(
          dir.resolve(MARKER), "data of `fleet local`; it may delete this directory\n");
    }
  }

  /** Removes an earlier run's data; refuses a directory fleet local did not create. */
  static void wipe(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    if (!Files.exists(dir.resolve(MARKER))) {
      try (Stream<Path> entries = Files.list(dir)) {
        List<String> names = entries.map(p -> p.getFileName().toString()).sorted().toList();
        if (names.isEmpty()) return;
        throw notOurs(dir, names);
      }
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.equals(dir)) Files.delete(p);
      }
    }
  }

  private static UsageException notOurs(Path dir, List<String> names) {
    String shown =
        names.size() <= 5
            ? String.join(", ", names)
            : String.join(", ", names.subList(0, 5)) + " and " + (names.size() - 5) + " more";
    return new UsageException(
        "--data-dir "
            + dir
            + " is not empty and was not created by fleet local (it holds "
            + shown
            + "; no "
            + MARKER
            + " file); choose another directory");
  }
}
