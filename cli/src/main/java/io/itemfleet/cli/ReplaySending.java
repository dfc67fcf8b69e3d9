package io.itemfleet.cli;

import static io.itemfleet.recorder.LedgerQueries.PAYLOAD_BATCH;

import com.fasterxml.jackson.databind.JsonNode;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.RecordForm;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.schemas.TaskOptions;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One replay's sending, a page of failure rows at a time: the rows found done are resolved, the
 * rest sent with their stored payloads and marked replayed. Messages go out in produce runs, one
 * per task type, finished (their manifests published, so the job's total counts them) every {@link
 * #RUN_CHUNK} messages (checked after each page of 1,000) and at the end, whatever stopped the
 * paging: a process killed part-way leaves at most one chunk without a manifest. Kafka is checked
 * before the first message; sending stops at the first refusal.
 */
final class ReplaySending {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ReplaySending.class);

  /** Messages sent between manifests. */
  static final int RUN_CHUNK = 50_000;

  private final Replayer replayer;
  private final LedgerQueries queries;
  private final Map<String, Object> kafka;
  private final FleetTopics topics;
  private final Replayer.Plan plan;
  private final Replayer.Listener listener;
  private final RecordForm form = RecordForms.fromEnvironment();
  private final Map<String, ProduceRun> runs = new LinkedHashMap<>();
  private TaskProducer producer;
  private long inChunk;
  private long pages;
  private long resolved;
  private long submitted;
  private long sent;
  private long failedSends;
  private long unannounced;
  private long unsendable;
  private long omittedCount;
  private final List<String> omitted = new ArrayList<>();
  private Optional<String> sendError = Optional.empty();

  ReplaySending(
      Replayer replayer,
      LedgerQueries queries,
      Map<String, Object> kafka,
      FleetTopics topics,
      Replayer.Plan plan,
      Replayer.Listener listener) {
    this.replayer = replayer;
    this.queries = queries;
    this.kafka = kafka;
    this.topics = topics;
    this.plan = plan;
    this.listener = listener;
  }

  Replayer.Outcome run() {
    Optional<Exception> stopped = Optional.empty();
    try {
      replayer.eachPage(plan.job(), plan.fingerprint(), this::page);
    } catch (SQLException | RuntimeException e) {
      stopped = Optional.of(e);
      if (!expected(e)) log.error("replay of job {} stopped part-way", plan.job(), e);
    } finally {
      try {
        finishRuns();
      } finally {
        if (producer != null) producer.close();
      }
    }
    return new Replayer.Outcome(
        plan,
        resolved,
        sent,
        failedSends,
        unannounced,
        unsendable,
        omittedCount,
        List.copyOf(omitted),
        sendError,
        stopped);
  }

  /** Failures a replay meets in the course of things; anything else is logged with its trace. */
  private static boolean expected(Exception e) {
    return e instanceof SQLException
        || e instanceof Replayer.RedisUnavailable
        || e instanceof Replayer.Stopped
        || e instanceof io.itemfleet.producer.BrokerUnreachableException;
  }

  private boolean page(Replayer.Page page) throws SQLException {
    // Asked before each page but the first, so that a stop never comes after the last page.
    if (pages++ > 0 && !listener.submitted(submitted)) {
      throw new Replayer.Stopped("stopped on request after " + submitted + " messages");
    }
    String job = plan.job();
    if (!page.done().isEmpty()) {
      queries.markResolved(
          job, page.done().stream().map(FailedItem::itemKey).toList(), Instant.now());
      resolved += page.done().size();
    }
    List<String> marked = new ArrayList<>(page.toReplay().size());
    boolean ok = true;
    try {
      // Payloads a batch at a time: all of them at once could exceed the recorder's heap.
      List<FailedItem> items = page.toReplay();
      for (int from = 0; from < items.size() && ok; from += PAYLOAD_BATCH) {
        List<FailedItem> batch = items.subList(from, Math.min(items.size(), from + PAYLOAD_BATCH));
        Map<String, String> payloads =
            queries.payloads(job, batch.stream().map(FailedItem::itemKey).toList());
        for (FailedItem f : batch) {
          ok = send(f, payloads.get(f.itemKey()), marked);
          if (!ok) break;
        }
      }
    } catch (SQLException | RuntimeException e) {
      markReplayed(marked, e);
      throw e;
    }
    markReplayed(marked, null);
    if (!ok) return false;
    if (inChunk >= RUN_CHUNK) {
      finishRuns();
      if (failedSends > 0) return false; // refusals seen only as the chunk finished: stop too
    }
    return true;
  }

  /** Marks what this page sent, also when the page failed ({@code failure} keeps its place). */
  private void markReplayed(List<String> marked, Exception failure) throws SQLException {
    if (marked.isEmpty()) return;
    try {
      queries.markReplayed(plan.job(), marked, Instant.now());
    } catch (SQLException | RuntimeException e) {
      if (failure == null) throw e;
      failure.addSuppressed(e);
    }
  }

  /** Sends one row's item again; false once Kafka has refused a message (sending stops). */
  private boolean send(FailedItem f, String storedPayload, List<String> marked) {
    JsonNode payload = Replayer.payload(f.itemKey(), Optional.ofNullable(storedPayload));
    if (Replayer.payloadOmitted(payload)) {
      if (omitted.size() < Replayer.MAX_OMITTED_NAMED) omitted.add(f.itemKey());
      omittedCount++;
      marked.add(f.itemKey());
      return true;
    }
    TaskMessage task;
    try {
      task =
          new TaskMessage(
              plan.job(),
              f.type().get(),
              f.item().get(),
              0,
              Optional.empty(),
              payload,
              TaskOptions.NONE);
    } catch (IllegalArgumentException e) {
      // A row recorded before a name rule was tightened: counted and left unresolved, never
      // allowed to stop the rows after it.
      unsendable++;
      return true;
    }
    ProduceRun run = runFor(task.type());
    if (run.failed() > 0) return false; // Kafka refuses: stop, do not wait on every item
    run.submit(task);
    marked.add(f.itemKey());
    submitted++;
    inChunk++;
    return true;
  }

  private ProduceRun runFor(String type) {
    ProduceRun run = runs.get(type);
    if (run != null) return run;
    if (producer == null) {
      try (TopicAdmin admin = new TopicAdmin(kafka, topics, Duration.ofSeconds(15))) {
        admin.checkReachable(String.valueOf(kafka.get("bootstrap.servers")));
      }
      producer = new TaskProducer(kafka, topics);
    }
    run = producer.startReplayRun(plan.job(), type, form);
    runs.put(type, run);
    return run;
  }

  /** Finishes every open run: waits for its messages and publishes its manifest. */
  private void finishRuns() {
    for (ProduceRun run : runs.values()) {
      try {
        ProduceRun.Result r = run.finish(Duration.ofMinutes(2));
        sent += r.acknowledged();
        failedSends += r.failed();
        if (r.acknowledged() > 0 && r.manifest().isEmpty()) unannounced += r.acknowledged();
        if (r.firstError().isPresent() && sendError.isEmpty()) {
          sendError = Optional.of(r.firstError().get().toString());
        }
      } catch (RuntimeException e) {
        // One run's failure must not leave the others without their manifests.
        long acked = run.acknowledged();
        sent += acked;
        unannounced += acked;
        failedSends += run.submitted() - acked;
        if (sendError.isEmpty()) sendError = Optional.of(e.toString());
      }
    }
    runs.clear();
    inChunk = 0;
  }
}
