package io.itemfleet.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FailureEvent;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fleet replay JOB}: re-enqueues a job's unresolved FAILED items (optionally one
 * fingerprint's), skipping items whose idempotency record says they are done.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "replay",
    sortOptions = false,
    description = {
      "Re-enqueue a job's unresolved failed items.",
      "Items go out with their last payload as a new run of the same job: its expected total",
      "grows by the count replayed, so totals stay exact. Items whose Redis done marker says",
      "SUCCEEDED or CACHED are skipped (and their rows resolved). A failure row is marked",
      "resolved when its replayed item succeeds (the recorder does it). POISON records cannot",
      "be replayed: they never decoded into a task.",
      "SIGINT or SIGTERM stops it after the page being sent (its manifests published); a",
      "second one exits at once.",
      "Exit codes: 0 replayed (or nothing to do), 1 no such job or stopped part-way, 2 usage,",
      "3 Kafka or Redis unreachable, 4 messages refused or not announced, rows not sendable,",
      "payloads not kept."
    })
final class ReplayCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Mixin KafkaOptions kafka;

  @Parameters(paramLabel = "JOB", description = "The job.")
  String job;

  @Option(names = "--fingerprint", description = "Replay only this failure group.")
  String fingerprint;

  @Option(
      names = "--redis-url",
      defaultValue = "${env:FLEET_REDIS_URL:-redis://localhost:6379}",
      description =
          "Redis whose done markers say which items are done already (env FLEET_REDIS_URL, default ${DEFAULT-VALUE}).")
  String redisUrl;

  @Option(
      names = "--redis-markers",
      defaultValue = "${env:FLEET_REDIS_MARKERS:-keys}",
      description =
          "Where the workers keep done markers: keys or buckets[:N], as they were told (env FLEET_REDIS_MARKERS, default ${DEFAULT-VALUE}).")
  String redisMarkers;

  @Option(
      names = "--no-redis",
      description = "Do not check done markers (workers still deduplicate items done since).")
  boolean noRedis;

  @Option(names = "--dry-run", description = "Say what would be replayed; send nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    if (!noRedis) SecretFlags.url(System.err, "--redis-url", redisUrl, "FLEET_REDIS_URL");
    RecordForms.fromEnvironment(); // refused before anything is read or sent
    Optional<java.net.URI> redis;
    try {
      redis =
          noRedis
              ? Optional.empty()
              : Optional.of(io.itemfleet.worker.RedisClients.parse(redisUrl));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--redis-url: " + e.getMessage());
    }
    try (HikariDataSource ds = db.openForReading()) {
      LedgerQueries q = new LedgerQueries(ds);
      Replayer replayer =
          new Replayer(
              q,
              kafka.clientProperties(),
              kafka.topics(),
              redis,
              io.itemfleet.worker.MarkerLayout.parse(redisMarkers));
      Replayer.Plan plan;
      try {
        plan = replayer.plan(job, Optional.ofNullable(fingerprint));
      } catch (Replayer.NoSuchJob e) {
        throw StatusCommand.noSuchJob(q, job);
      } catch (IllegalArgumentException e) {
        throw new UsageException("fleet replay: " + Terminal.safe(e.getMessage()));
      } catch (Replayer.RedisUnavailable e) {
        throw new CliFailure(
            3, "fleet replay: " + e.getMessage() + " (use --no-redis to skip the check)");
      }
      System.err.printf(
          "fleet replay %s%s: %d unresolved failures; %d to replay, %d done already (Redis), %d"
              + " poison (not replayable)%n",
          job,
          fingerprint == null ? "" : " --fingerprint " + fingerprint,
          plan.unresolved(),
          plan.toReplay(),
          plan.doneAlready(),
          plan.poison());
      if (dryRun) {
        System.out.printf(
            "dry run: nothing sent; %d items would be replayed%s%n",
            plan.toReplay(),
            plan.doneAlready() == 0 ? "" : " and " + plan.doneAlready() + " rows resolved");
        return 0;
      }
      // A second signal exits at once: the messages of the run being sent then have no manifest.
      Progress progress = new Progress(plan.toReplay(), StopSignal.install(() -> System.exit(130)));
      Replayer.Outcome out = replayer.run(plan, progress::submitted);
      for (String item : out.omitted()) {
        System.err.printf(
            "fleet replay: skipped item %s: its payload was over %d bytes and was not kept;"
                + " send it again from its source%n",
            item, FailureEvent.MAX_PAYLOAD_BYTES);
      }
      if (out.omittedCount() > out.omitted().size()) {
        System.err.printf(
            "fleet replay: skipped %d more items whose payloads were not kept%n",
            out.omittedCount() - out.omitted().size());
      }
      out.sendError().ifPresent(e -> System.err.println("fleet replay: could not send: " + e));
      if (out.sent() > 0) {
        System.err.printf(
            "fleet replay %s: sent %d messages as a new run of the job; watch with: fleet watch"
                + " %s%n",
            job, out.sent(), job);
      }
      if (out.complete()) return 0;
      System.err.println("fleet replay: " + Terminal.safe(Replayer.incomplete(out)));
      if (out.stopped().isPresent()) {
        System.err.println(
            "fleet replay: running it again sends every failure still unresolved, those just sent"
                + " included (a copy of an item that succeeded meanwhile is DEDUPLICATED)");
        Exception why = out.stopped().get();
        boolean unreachable =
            why instanceof Replayer.RedisUnavailable
                || why instanceof io.itemfleet.producer.BrokerUnreachableException;
        return unreachable ? 3 : 1;
      }
      return 4;
    }
  }

  /** Progress on stderr while a long replay sends: at most every two seconds. */
  private static final class Progress {
    private final long planned;
    private final StopSignal stop;
    private long lastNanos = System.nanoTime();

    Progress(long planned, StopSignal stop) {
      this.planned = planned;
      this.stop = stop;
    }

    /**
     * After each page: progress at most every two seconds; false on SIGINT or SIGTERM, so that the
     * replay stops there and still publishes the manifests of what it sent.
     */
    boolean submitted(long n) {
      if (stop.requested()) {
        System.err.printf("fleet replay: %s: stopping after %d messages%n", stop.name(), n);
        return false;
      }
      long now = System.nanoTime();
      if (now - lastNanos >= 2_000_000_000L) {
        lastNanos = now;
        System.err.printf("fleet replay: %d of about %d submitted%n", n, planned);
      }
      return true;
    }
  }
}
