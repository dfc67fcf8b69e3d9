package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import io.itemfleet.worker.RedisKeys;
import java.net.URI;
import java.sql.SQLException;
import java.util.ArrayList;
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
  /**
   * What a replay would do, counted a page of failure rows at a time: none of the rows is kept. The
   * run reads the rows again, so its own counts may differ where failures came or resolved in
   * between.
   */
  record Plan(
      String job,
      Optional<String> fingerprint,
      long unresolved,
      long toReplay,
      long doneAlready,
      long poison,
      boolean redisChecked) {}

  /**
   * What a replay did: rows resolved as done already, messages sent (acknowledged) and refused,
   * messages sent whose run's manifest could not be published ({@code unannounced}: the job's total
   * does not count them), rows that cannot be sent again ({@code unsendable}: a name the rules now
   * refuse), the items skipped because their payload was not kept (the first {@link
   * #MAX_OMITTED_NAMED} named), and what stopped it part-way, if anything did.
   */
  record Outcome(
      Plan plan,
      long resolved,
      long sent,
      long failedSends,
      long unannounced,
      long unsendable,
      long omittedCount,
      List<String> omitted,
      Optional<String> sendError,
      Optional<Exception> stopped) {
    boolean complete() {
      return failedSends == 0
          && unannounced == 0
          && unsendable == 0
          && omittedCount == 0
          && stopped.isEmpty();
    }
  }

  /** Hears how far a replay got after each page; false stops it there (a signal, say). */
  interface Listener {
    boolean submitted(long n);
  }

  /** A replay stopped on request part-way. */
  static final class Stopped extends RuntimeException {
    Stopped(String why) {
      super(why);
    }
  }

  /** Most omitted items named in an outcome; the rest are counted. */
  static final int MAX_OMITTED_NAMED = 1_000;

  /** Failure rows read (and done markers asked for) at a time. */
  static final int PAGE = 1_000;

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

  /** One page of a job's unresolved failures, sorted out. */
  record Page(int rows, int poison, List<FailedItem> toReplay, List<FailedItem> done) {}

  /** What is done with each page; false stops the paging. */
  interface PageStep {
    boolean accept(Page page) throws SQLException;
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
    checkJob(job);
    long[] n = new long[4]; // unresolved, to replay, done already, poison
    eachPage(
        job,
        fingerprint,
        page -> {
          n[0] += page.rows();
          n[1] += page.toReplay().size();
          n[2] += page.done().size();
          n[3] += page.poison();
          return true;
        });
    return new Plan(job, fingerprint, n[0], n[1], n[2], n[3], redis.isPresent());
  }

  private void checkJob(String job) throws SQLException {
    if (queries.job(job).isEmpty()) throw new NoSuchJob(job);
    // A job recorded before its name's rule was tightened (U+FFFD) cannot be sent again: refused
    // here, before anything is marked resolved.
    io.itemfleet.schemas.Names.problem("job", job)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException(p + "; its failures cannot be replayed");
            });
  }

  /**
   * Reads the job's unresolved failures a page at a time in item-key order, asks Redis which of
   * each page's items are done already, and hands each page to {@code step}. Memory follows the
   * page, however many failures the job has.
   */
  void eachPage(String job, Optional<String> fingerprint, PageStep step) throws SQLException {
    UnifiedJedis r = null;
    try {
      if (redis.isPresent()) r = RedisClients.open(redis.get());
      String after = "";
      while (true) {
        List<FailedItem> rows = queries.failedItemsBrief(job, fingerprint, after, PAGE);
        if (rows.isEmpty()) return;
        after = rows.get(rows.size() - 1).itemKey();
        List<FailedItem> candidates = new ArrayList<>(rows.size());
        int poison = 0;
        for (FailedItem f : rows) {
          if (f.outcome().equals("FAILED") && f.item().isPresent() && f.type().isPresent()) {
            candidates.add(f);
          } else {
            poison++;
          }
        }
        List<FailedItem> done = r == null ? List.of() : doneAlready(r, job, candidates);
        if (!step.accept(new Page(rows.size(), poison, notDone(candidates, done), done))) return;
        if (rows.size() < PAGE) return;
      }
    } catch (redis.clients.jedis.exceptions.JedisException e) {
      throw new RedisUnavailable(
          "cannot read done markers from Redis at "
              + io.itemfleet.schemas.Redaction.text(redis.get().toString())
              + ": "
              + e.getMessage());
    } finally {
      if (r != null) {
        try {
          r.close();
        } catch (RuntimeException e) {
          // Closing a connection that failed: the markers were read or the failure says why not.
        }
      }
    }
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
   * Resolves the rows of items done already, sends the rest, marks them replayed, a page at a time
   * ({@link ReplaySending}). One replay per job at a time ({@link Busy} otherwise). Whatever stops
   * it part-way is in the outcome, beside what it had sent by then.
   */
  Outcome run(Plan plan, Listener listener) throws SQLException {
    String job = plan.job();
    if (!running.add(job)) throw new Busy(job);
    try {
      checkJob(job);
      return new ReplaySending(this, queries, kafka, topics, plan, listener).run();
    } finally {
      running.remove(job);
    }
  }

  Outcome run(Plan plan) throws SQLException {
    return run(plan, n -> true);
  }

  /** A plan (and an outcome, when run) as the API answers it. */
  static ObjectNode toJson(Plan p, Optional<Outcome> o) {
    ObjectNode n = StatusCommand.JSON.createObjectNode();
    n.put("job", p.job());
    p.fingerprint().ifPresent(f -> n.put("fingerprint", f));
    n.put("dryRun", o.isEmpty());
    n.put("unresolved", p.unresolved());
    n.put("toReplay", p.toReplay());
    n.put("doneAlready", p.doneAlready());
    n.put("poison", p.poison());
    n.put("redisChecked", p.redisChecked());
    o.ifPresent(
        x -> {
          n.put("resolved", x.resolved());
          n.put("sent", x.sent());
          n.put("failedSends", x.failedSends());
          n.put("unannounced", x.unannounced());
          n.put("unsendable", x.unsendable());
          n.put("omittedCount", x.omittedCount());
          x.omitted().forEach(n.putArray("omittedTooLarge")::add);
          x.sendError().ifPresent(e -> n.put("sendError", e));
          x.stopped().ifPresent(e -> n.put("stoppedBy", String.valueOf(e.getMessage())));
          if (!x.complete()) n.put("error", incomplete(x));
        });
    return n;
  }

  /** Why a replay is incomplete, in a sentence that says what it did send. */
  static String incomplete(Outcome x) {
    List<String> why = new ArrayList<>();
    x.stopped().ifPresent(e -> why.add("stopped part-way: " + e.getMessage()));
    if (x.failedSends() > 0) {
      why.add(
          x.failedSends()
              + " messages refused"
              + x.sendError().map(e -> " (" + e + ")").orElse(""));
    }
    if (x.unannounced() > 0) {
      why.add(
          x.unannounced()
              + " sent messages without a published manifest (the job's total does not count them)");
    }
    if (x.unsendable() > 0) why.add(x.unsendable() + " rows whose names the rules now refuse");
    if (x.omittedCount() > 0) why.add(x.omittedCount() + " items whose payloads were not kept");
    return "replay incomplete: sent "
        + x.sent()
        + " messages as new runs of the job, resolved "
        + x.resolved()
        + " rows; "
        + String.join("; ", why);
  }

  /** True when the worker kept only the size and hash of the item's (oversized) payload. */
  static boolean payloadOmitted(JsonNode p) {
    return p.isObject() && p.size() == 1 && p.has(FailureEvent.PAYLOAD_OMITTED);
  }

  static JsonNode payload(String itemKey, Optional<String> stored) {
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
  private List<FailedItem> doneAlready(UnifiedJedis r, String job, List<FailedItem> items) {
    List<FailedItem> out = new ArrayList<>();
    if (items.isEmpty()) return out;
    String prefix = topics.prefix();
    // One GET per item in a pipeline, not MGET: on a Redis Cluster the keys live on many nodes.
    List<Response<String>> values = new ArrayList<>(items.size());
    try (AbstractPipeline p = r.pipelined()) {
      for (FailedItem f : items) {
        MarkerLayout.Place at = layout.defaultPlace(prefix, job, f.item().get());
        values.add(at.field().isEmpty() ? p.get(at.key()) : p.hget(at.key(), at.field()));
      }
      p.sync();
    }
    for (int i = 0; i < items.size(); i++) {
      String v = RedisClients.read(values.get(i)::get);
      if (RedisKeys.successMarker(v)) out.add(items.get(i));
    }
    return out;
  }
}
