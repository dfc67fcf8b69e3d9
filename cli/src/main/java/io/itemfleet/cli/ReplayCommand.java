package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.schemas.TaskOptions;
import io.itemfleet.worker.RedisKeys;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import redis.clients.jedis.Jedis;

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
      "Exit codes: 0 replayed (or nothing to do), 1 no such job, 2 usage, 3 unreachable,",
      "4 some messages could not be sent."
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
      names = "--no-redis",
      description = "Do not check done markers (workers still deduplicate items done since).")
  boolean noRedis;

  @Option(names = "--dry-run", description = "Say what would be replayed; send nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    try (HikariDataSource ds = db.openForReading()) {
      LedgerQueries q = new LedgerQueries(ds);
      q.job(job).orElseThrow(() -> StatusCommand.noSuchJob(q, job));
      List<FailedItem> rows = q.failedItems(job, Optional.ofNullable(fingerprint), 0);
      List<FailedItem> candidates = new ArrayList<>();
      int poison = 0;
      for (FailedItem f : rows) {
        if (f.outcome().equals("FAILED") && f.item().isPresent() && f.type().isPresent()) {
          candidates.add(f);
        } else {
          poison++;
        }
      }
      List<FailedItem> done = noRedis ? List.of() : doneAlready(candidates);
      candidates.removeAll(done);
      System.err.printf(
          "fleet replay %s%s: %d unresolved failures; %d to replay, %d done already (Redis), %d"
              + " poison (not replayable)%n",
          job,
          fingerprint == null ? "" : " --fingerprint " + fingerprint,
          rows.size(),
          candidates.size(),
          done.size(),
          poison);
      if (dryRun) {
        System.out.printf(
            "dry run: nothing sent; %d items would be replayed%s%n",
            candidates.size(), done.isEmpty() ? "" : " and " + done.size() + " rows resolved");
        return 0;
      }
      if (!done.isEmpty()) {
        q.markResolved(job, done.stream().map(FailedItem::itemKey).toList(), Instant.now());
      }
      if (candidates.isEmpty()) return 0;
      Map<String, List<FailedItem>> byType = new LinkedHashMap<>();
      for (FailedItem f : candidates) {
        byType.computeIfAbsent(f.type().get(), t -> new ArrayList<>()).add(f);
      }
      try (TopicAdmin admin =
          new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
        admin.checkReachable(kafka.bootstrap);
      }
      long sent = 0;
      long failedSends = 0;
      long omitted = 0;
      try (TaskProducer producer = new TaskProducer(kafka.clientProperties(), kafka.topics())) {
        for (var e : byType.entrySet()) {
          ProduceRun run = producer.startReplayRun(job, e.getKey());
          for (FailedItem f : e.getValue()) {
            if (payloadOmitted(f)) {
              omitted++;
              System.err.printf(
                  "fleet replay: skipped item %s: its payload was over %d bytes and was not kept;"
                      + " send it again from its source%n",
                  f.itemKey(), FailureEvent.MAX_PAYLOAD_BYTES);
              continue;
            }
            run.submit(
                new TaskMessage(
                    job,
                    e.getKey(),
                    f.item().get(),
                    0,
                    Optional.empty(),
                    payload(f),
                    TaskOptions.NONE));
          }
          ProduceRun.Result r = run.finish(Duration.ofMinutes(2));
          sent += r.acknowledged();
          failedSends += r.failed();
          if (r.firstError().isPresent()) {
            System.err.println("fleet replay: could not send: " + r.firstError().get());
          }
        }
      }
      List<String> keys = candidates.stream().map(FailedItem::itemKey).toList();
      q.markReplayed(job, keys, Instant.now());
      System.err.printf(
          "fleet replay %s: sent %d messages as a new run of the job; watch with: fleet watch %s%n",
          job, sent, job);
      return failedSends > 0 || omitted > 0 ? 4 : 0;
    }
  }

  /** True when the worker kept only the size and hash of the item's (oversized) payload. */
  private static boolean payloadOmitted(FailedItem f) {
    JsonNode p = payload(f);
    return p.isObject() && p.size() == 1 && p.has(FailureEvent.PAYLOAD_OMITTED);
  }

  private static JsonNode payload(FailedItem f) {
    if (f.lastPayload().isEmpty()) return NullNode.getInstance();
    try {
      return StatusCommand.JSON.readTree(f.lastPayload().get());
    } catch (java.io.IOException e) {
      // The ledger stores payloads as jsonb, so this is a damaged row: say which, send nothing.
      throw new CliFailure(
          1, "fleet replay: the stored payload of item " + f.itemKey() + " is not JSON: " + e);
    }
  }

  /** Items whose done marker (default key, job and item) says SUCCEEDED or CACHED. */
  private List<FailedItem> doneAlready(List<FailedItem> items) {
    List<FailedItem> out = new ArrayList<>();
    if (items.isEmpty()) return out;
    String prefix = kafka.topics().prefix();
    try (Jedis r = new Jedis(URI.create(redisUrl), 5_000)) {
      for (int from = 0; from < items.size(); from += 1000) {
        List<FailedItem> page = items.subList(from, Math.min(items.size(), from + 1000));
        List<String> values =
            r.mget(
                page.stream()
                    .map(f -> RedisKeys.defaultItemKey(prefix, job, f.item().get()))
                    .toArray(String[]::new));
        for (int i = 0; i < page.size(); i++) {
          String v = values.get(i);
          if (v != null && (v.startsWith("D|SUCCEEDED|") || v.startsWith("D|CACHED|"))) {
            out.add(page.get(i));
          }
        }
      }
    } catch (redis.clients.jedis.exceptions.JedisException e) {
      throw new CliFailure(
          3,
          "fleet replay: cannot read done markers from Redis at "
              + io.itemfleet.schemas.Redaction.text(redisUrl)
              + ": "
              + e.getMessage()
              + " (use --no-redis to skip the check)");
    }
    return out;
  }
}
