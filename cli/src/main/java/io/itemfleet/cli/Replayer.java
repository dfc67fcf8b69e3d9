package io.itemfleet.cli;

import static io.itemfleet.recorder.LedgerQueries.PAYLOAD_BATCH;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.RecordForm;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.schemas.TaskOptions;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import io.itemfleet.worker.RedisKeys;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * What {@code fleet replay} does, shared by the command and the recorder's API ({@code POST
 * /api/jobs/JOB/replay}): a job's unresolved FAILED items (optionally one fingerprint's) go out
 * again with their last payload as a new run of the job (its total grows by the count replayed);
 * items whose Redis done marker says SUCCEEDED or CACHED are not sent, their rows resolved; POISON
 * records are not replayable; an item whose payload was too large to keep is skipped and named.
 */
final class Replayer {
  /** What a replay would do. */
  record Plan(
      String job,
      Optional<String> fingerprint,
      int unresolved,
      List<FailedItem> toReplay,
      List<FailedItem> doneAlready,
      int poison,
      boolean redisChecked) {}

  /** What a replay did. */
  record Outcome(
      Plan plan, long sent, long failedSends, List<String> omitted, Optional<String> sendError) {
    boolean complete() {
      return failedSends == 0 && omitted.isEmpty();
    }
  }

  /** The job is not in the ledger. */
  static final class NoSuchJob extends RuntimeException {
    NoSuchJob(String job) {
      super("no job '" + job + "' in the ledger");
    }
  }

  /** A replay of the same job is running already (a second one would send the same items again). */
  static final class Busy extends RuntimeException {
    Busy(String job) {
      super("a replay of job '" + job + "' is running already");
    }
  }

  /** Redis could not be asked which items are done. */
  static final class RedisUnavailable extends RuntimeException {
    RedisUnavailable(String message) {
      super(message);
    }
  }

  private final LedgerQueries queries;
  private final Map<String, Object> kafka;
  private final FleetTopics topics;
  private final Optional<URI> redis;

  /** Jobs being replayed now, by this process. */
  private final java.util.Set<String> running = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param redis where done markers are read; empty: no check (workers still deduplicate items done
   *     since)
   */
  Replayer(
      LedgerQueries queries, Map<String, Object> kafka, FleetTopics topics, Optional<URI> redis) {
    this(queries, kafka, topics, redis, MarkerLayout.KEYS);
  }

  /** A replayer reading done markers in {@code layout} (the workers' FLEET_REDIS_MARKERS). */
  Replayer(
      LedgerQueries queries,
      Map<String, Object> kafka,
      FleetTopics topics,
      Optional<URI> redis,
      MarkerLayout layout) {
    this.queries = queries;
    this.kafka = kafka;
    this.topics = topics;
    this.redis = redis;
    this.layout = layout;
  }

  /** Where the workers keep done markers. */
  private final MarkerLayout layout;

  Plan plan(String job, Optional<String> fingerprint) throws SQLException {
    if (queries.job(job).isEmpty()) throw new NoSuchJob(job);
    // A job recorded before its name's rule was tightened (U+FFFD) cannot be sent again: refused
    // here, before anything is marked resolved.
    io.itemfleet.schemas.Names.problem("job", job)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException(p + "; its failures cannot be replayed");
            });
    List<FailedItem> rows = queries.failedItemsBrief(job, fingerprint);
    List<FailedItem> candidates = new ArrayList<>();
    int poison = 0;
    for (FailedItem f : rows) {
      if (f.outcome().equals("FAILED") && f.item().isPresent() && f.type().isPresent()) {
        candidates.add(f);
      } else {
        poison++;
      }
    }
    List<FailedItem> done = redis.isEmpty() ? List.of() : doneAlready(job, candidates);
    return new Plan(
        job, fingerprint, rows.size(), notDone(candidates, done), done, poison, redis.isPresent());
  }

  /**
   * {@code candidates} without those in {@code done} (the same row objects, found done in Redis),
   * in one pass: removing a list from a list scans it once per row, hours for a big job.
   */
  static List<FailedItem> notDone(List<FailedItem> candidates, List<FailedItem> done) {
    if (done.isEmpty()) return new ArrayList<>(candidates);
    java.util.Set<FailedItem> set =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>(2 * done.size()));
    set.addAll(done);
    List<FailedItem> out = new ArrayList<>(candidates.size());
    for (FailedItem f : candidates) {
      if (!set.contains(f)) out.add(f);
    }
    return out;
  }

  /**
   * Resolves the rows of items done already, sends the rest, marks them replayed. One replay per
   * job at a time ({@link Busy} otherwise); Kafka is checked before anything is sent, and sending
   * stops at the first failure.
   */
  Outcome run(Plan plan) throws SQLException {
    String job = plan.job();
    if (!running.add(job)) throw new Busy(job);
    try {
      return runAlone(plan);
    } finally {
      running.remove(job);
    }
  }

  private Outcome runAlone(Plan plan) throws SQLException {
    String job = plan.job();
    if (!plan.doneAlready().isEmpty()) {
      queries.markResolved(
          job, plan.doneAlready().stream().map(FailedItem::itemKey).toList(), Instant.now());
    }
    if (plan.toReplay().isEmpty()) return new Outcome(plan, 0, 0, List.of(), Optional.empty());
    try (TopicAdmin admin = new TopicAdmin(kafka, topics, Duration.ofSeconds(15))) {
      admin.checkReachable(String.valueOf(kafka.get("bootstrap.servers")));
    }
    Map<String, List<FailedItem>> byType = new LinkedHashMap<>();
    for (FailedItem f : plan.toReplay()) {
      byType.computeIfAbsent(f.type().get(), t -> new ArrayList<>()).add(f);
    }
    long sent = 0;
    long failedSends = 0;
    List<String> omitted = new ArrayList<>();
    List<String> submitted = new ArrayList<>();
    Optional<String> sendError = Optional.empty();
    RecordForm form = RecordForms.fromEnvironment();
    try (TaskProducer producer = new TaskProducer(kafka, topics)) {
      for (var e : byType.entrySet()) {
        ProduceRun run = producer.startReplayRun(job, e.getKey(), form);
        List<FailedItem> items = e.getValue();
        // Payloads a batch at a time: all of them at once could exceed the recorder's heap.
        for (int from = 0; from < items.size() && run.failed() == 0; from += PAYLOAD_BATCH) {
          List<FailedItem> batch =
              items.subList(from, Math.min(items.size(), from + PAYLOAD_BATCH));
          Map<String, String> payloads =
              queries.payloads(job, batch.stream().map(FailedItem::itemKey).toList());
          for (FailedItem f : batch) {
            if (run.failed() > 0) break; // Kafka refuses: stop, do not wait on every item
            JsonNode payload = payload(f.itemKey(), Optional.ofNullable(payloads.get(f.itemKey())));
            if (payloadOmitted(payload)) {
              omitted.add(f.itemKey());
              continue;
            }
            run.submit(
                new TaskMessage(
                    job,
                    e.getKey(),
                    f.item().get(),
                    0,
                    Optional.empty(),
                    payload,
                    TaskOptions.NONE));
            submitted.add(f.itemKey());
          }
        }
        ProduceRun.Result r = run.finish(Duration.ofMinutes(2));
        sent += r.acknowledged();
        failedSends += r.failed();
        if (r.firstError().isPresent() && sendError.isEmpty()) {
          sendError = Optional.of(r.firstError().get().toString());
        }
        if (r.failed() > 0) break;
      }
    }
    List<String> marked = new ArrayList<>(submitted);
    marked.addAll(omitted);
    queries.markReplayed(job, marked, Instant.now());
    return new Outcome(plan, sent, failedSends, omitted, sendError);
  }

  /** A plan (and an outcome, when run) as the API answers it. */
  static ObjectNode toJson(Plan p, Optional<Outcome> o) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("job", p.job());
    p.fingerprint().ifPresent(f -> n.put("fingerprint", f));
    n.put("dryRun", o.isEmpty());
    n.put("unresolved", p.unresolved());
    n.put("toReplay", p.toReplay().size());
    n.put("doneAlready", p.doneAlready().size());
    n.put("poison", p.poison());
    n.put("redisChecked", p.redisChecked());
    o.ifPresent(
        x -> {
          n.put("sent", x.sent());
          n.put("failedSends", x.failedSends());
          x.omitted().forEach(n.putArray("omittedTooLarge")::add);
          x.sendError().ifPresent(e -> n.put("sendError", e));
        });
    return n;
  }

  /** True when the worker kept only the size and hash of the item's (oversized) payload. */
  static boolean payloadOmitted(JsonNode p) {
    return p.isObject() && p.size() == 1 && p.has(FailureEvent.PAYLOAD_OMITTED);
  }

  private static JsonNode payload(String itemKey, Optional<String> stored) {
    if (stored.isEmpty()) return NullNode.getInstance();
    try {
      return StatusCommand.JSON.readTree(stored.get());
    } catch (java.io.IOException e) {
      // The ledger stores payloads as jsonb, so this is a damaged row: say which, send nothing.
      throw new IllegalStateException(
          "the stored payload of item " + itemKey + " is not JSON: " + e, e);
    }
  }

  /** Items whose done marker (default key, job and item) says SUCCEEDED or CACHED. */
  private List<FailedItem> doneAlready(String job, List<FailedItem> items) {
    List<FailedItem> out = new ArrayList<>();
    if (items.isEmpty()) return out;
    String prefix = topics.prefix();
    // One GET per item in a pipeline, not MGET: on a Redis Cluster the keys live on many nodes.
    try (UnifiedJedis r = RedisClients.open(redis.get())) {
      for (int from = 0; from < items.size(); from += 1000) {
        List<FailedItem> page = items.subList(from, Math.min(items.size(), from + 1000));
        List<Response<String>> values = new ArrayList<>(page.size());
        try (AbstractPipeline p = r.pipelined()) {
          for (FailedItem f : page) {
            MarkerLayout.Place at = layout.defaultPlace(prefix, job, f.item().get());
            values.add(at.field().isEmpty() ? p.get(at.key()) : p.hget(at.key(), at.field()));
          }
          p.sync();
        }
        for (int i = 0; i < page.size(); i++) {
          String v = RedisClients.read(values.get(i)::get);
          if (RedisKeys.successMarker(v)) {
            out.add(page.get(i));
          }
        }
      }
    } catch (redis.clients.jedis.exceptions.JedisException e) {
      throw new RedisUnavailable(
          "cannot read done markers from Redis at "
              + io.itemfleet.schemas.Redaction.text(redis.get().toString())
              + ": "
              + e.getMessage());
    }
    return out;
  }
}
