package io.itemfleet.recorder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.LatencyHistogram;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Values PostgreSQL refuses, arriving in messages any Kafka client (or a handler's output) can
 * produce: the NUL character in text and in jsonb, instants beyond PostgreSQL's range, counts that
 * would overflow a bigint. Before, each made the recorder's transaction fail with a data error and
 * the recorder stop for good (and again after every restart, on the same batch): no job of the
 * fleet was counted any more.
 */
@ExtendWith(FleetTestKit.class)
class HostileValuesTest {
  private static final MessageCodec CODEC = new MessageCodec();
  private static final String NUL = "\u0000";

  @Test
  void nulCharactersAreStoredAsReplacementCharactersAndTheRecorderGoesOn(TestFleet f)
      throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    out.add(
        new ProducerRecord<>(
            t.jobs(),
            "j-nul",
            CODEC.encodeJobEvent(
                new JobManifest("j-nul", "t", 1, "run-1", now, Map.of("k" + NUL, "v" + NUL)))));
    FailureEvent failed =
        new FailureEvent(
            Outcome.FAILED,
            Optional.of("j-nul"),
            Optional.of("t"),
            Optional.of("i-1"),
            1,
            false,
            "exec.exit" + NUL,
            "the child printed x" + NUL + "y",
            now,
            Optional.of(new SourceRecord(t.tasks(), 0, 0)),
            new ObjectMapper().readTree("{\"s\":\"a\\u0000b\",\"k\\u0000\":\"\\\\u0000\"}"),
            Optional.empty(),
            Optional.of("at x" + NUL));
    out.add(new ProducerRecord<>(t.failures(), "i-1", CODEC.encodeFailure(failed)));
    out.add(stats(t, "j-nul", now, new OutcomeCounts(0, 0, 1, 0, 0)));
    recordUntilDone(
        f,
        out,
        "j-nul",
        q -> {
          assertThat(q.job("j-nul").orElseThrow().labels()).containsEntry("k\uFFFD", "v\uFFFD");
          FailedItem row = q.failedItems("j-nul", Optional.empty(), 0).get(0);
          assertThat(row.errorClass()).isEqualTo("exec.exit\uFFFD");
          assertThat(row.errorMessage()).isEqualTo("the child printed x\uFFFDy");
          // A real NUL escape is replaced; an escaped backslash followed by "u0000" is text, kept.
          assertThat(q.payloads("j-nul", List.of(row.itemKey())).get(row.itemKey()))
              .contains("a\uFFFDb")
              .contains("k\uFFFD")
              .contains("\\\\u0000");
        });
  }

  /**
   * Stats whose job or type carries a NUL, and failure events whose items differ only where
   * PostgreSQL stores them alike (NUL and U+FFFD): before, the first made the completion check's
   * array refuse the NUL (SQLSTATE 22021), the second made one batched upsert touch a row twice
   * (21000); either stopped the recorder, and every restart met the same batch again.
   */
  @Test
  void namesAndItemsPostgresWouldStoreAlikeAreSkippedAndTheRecorderGoesOn(TestFleet f)
      throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    out.add(rawStats(t, "j" + NUL, "t", now));
    out.add(rawStats(t, "j-ok", "t" + NUL, now));
    for (String item : List.of("x" + NUL, "x\uFFFD")) {
      FailureEvent e =
          new FailureEvent(
              Outcome.FAILED,
              Optional.of("j-ok"),
              Optional.of("t"),
              Optional.of(item),
              1,
              false,
              "c",
              "m",
              now,
              Optional.of(new SourceRecord(t.tasks(), 0, 0)),
              new ObjectMapper().readTree("{}"),
              Optional.empty(),
              Optional.empty());
      out.add(new ProducerRecord<>(t.failures(), item, CODEC.encodeFailure(e)));
    }
    out.add(manifest(t, "j-ok", 1, now));
    out.add(stats(t, "j-ok", now, new OutcomeCounts(0, 0, 1, 0, 0)));
    recordUntilDone(
        f,
        out,
        "j-ok",
        q -> {
          assertThat(q.job("j-ok").orElseThrow().counts())
              .isEqualTo(new OutcomeCounts(0, 0, 1, 0, 0));
          assertThat(q.job("j\uFFFD")).isEmpty(); // the NUL job's stats were skipped, not stored
        });
  }

  /**
   * Hundreds of manifests of one job, each with labels of its own: before, the job's labels were
   * merged without bound (each manifest rewrote the whole growing value; a few hundred 1 MB ones
   * passed PostgreSQL's jsonb limit and stopped the recorder on every restart), and every status
   * request read them all.
   */
  @Test
  void aJobsLabelsStayBoundedHoweverManyManifestsBringNewOnes(TestFleet f) throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    for (int run = 0; run < 300; run++) {
      Map<String, String> labels = new java.util.HashMap<>();
      for (int i = 0; i < 20; i++) labels.put("k" + run + "-" + i + "x".repeat(300), "v");
      labels.put("team", "x");
      out.add(
          new ProducerRecord<>(
              t.jobs(),
              "j-labels/run-" + run,
              CODEC.encodeJobEvent(
                  new JobManifest("j-labels", "t", 1, "run-" + run, now, labels))));
    }
    out.add(stats(t, "j-labels", now, new OutcomeCounts(300, 0, 0, 0, 0)));
    recordUntilDone(
        f,
        out,
        "j-labels",
        q -> {
          JobStatus s = q.job("j-labels").orElseThrow();
          assertThat(s.total()).contains(300L);
          assertThat(s.labels()).hasSizeLessThanOrEqualTo(Ledger.MAX_LABELS);
          assertThat(s.labels().keySet())
              .allSatisfy(k -> assertThat(k).hasSizeLessThanOrEqualTo(Ledger.MAX_LABEL_KEY));
        });
  }

  /**
   * Review (2026-11-30): a run sent again with another count (`fleet jobs close` run twice with one
   * --run-id and a corrected count) was ignored without a word; the job waits for the first count.
   * It still counts once, the first time, and the recorder now says so, once per count.
   */
  @Test
  void aRunSentAgainWithAnotherCountCountsOnceAndIsNamedInAWarning(TestFleet f) throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    ch.qos.logback.classic.Logger ledgerLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Ledger.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    ledgerLog.addAppender(seen);
    try {
      JobManifest first = new JobManifest("j-twice", "t", 1000, "close", now, Map.of());
      JobManifest again = new JobManifest("j-twice", "t", 1200, "close", now, Map.of());
      JobManifest resend = new JobManifest("j-twice", "t", 1000, "close", now, Map.of());
      List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
      for (JobManifest m : List.of(first, again, resend, again)) {
        out.add(
            new ProducerRecord<>(
                t.jobs(), io.itemfleet.schemas.JobEventKeys.manifest(m), CODEC.encodeJobEvent(m)));
      }
      out.add(stats(t, "j-twice", now, new OutcomeCounts(1000, 0, 0, 0, 0)));
      JobManifest later = new JobManifest("j-twice", "t", 1300, "close", now, Map.of());
      recordUntilDone(
          f,
          out,
          "j-twice",
          q -> {
            // The same run once more, in a later batch: the ledger's row is what it meets now.
            RecorderTest.send(
                f,
                List.of(
                    new ProducerRecord<>(
                        t.jobs(),
                        io.itemfleet.schemas.JobEventKeys.manifest(later),
                        CODEC.encodeJobEvent(later))));
            await()
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(
                    () ->
                        List.copyOf(seen.list).stream()
                            .anyMatch(e -> e.getFormattedMessage().contains("with 1300 items")));
            assertThat(q.job("j-twice").orElseThrow().total()).contains(1000L);
          });
    } finally {
      ledgerLog.detachAppender(seen);
    }
    assertThat(seen.list)
        .filteredOn(e -> e.getFormattedMessage().contains("j-twice"))
        .hasSize(2)
        .allSatisfy(
            e ->
                assertThat(e.getFormattedMessage())
                    .contains("run close was counted with 1000 items")
                    .contains("another run ID"))
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("with 1200 items"));
  }

  /** A stats record as any Kafka client could write it, names unchecked. */
  private static ProducerRecord<String, byte[]> rawStats(
      FleetTopics t, String job, String type, Instant at) throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("v", 1);
    o.put("job", job);
    o.put("type", type);
    o.put("minute", at.truncatedTo(ChronoUnit.MINUTES).toString());
    o.putObject("counts")
        .put("succeeded", 0)
        .put("cached", 0)
        .put("failed", 1)
        .put("deduplicated", 0)
        .put("poison", 0);
    return new ProducerRecord<>(t.stats(), job, new ObjectMapper().writeValueAsBytes(o));
  }

  @Test
  void aManifestFromBeyondPostgresRangeOrOverflowingCountsIsSkippedAndTheRecorderGoesOn(TestFleet f)
      throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    String farFuture =
        new String(
                CODEC.encodeJobEvent(new JobManifest("j-far", "t", 1, "run-1", now, Map.of())),
                StandardCharsets.UTF_8)
            .replace(now.toString(), "+300000-01-01T00:00:00Z");
    out.add(new ProducerRecord<>(t.jobs(), "j-far", farFuture.getBytes(StandardCharsets.UTF_8)));
    for (String run : List.of("run-1", "run-2")) {
      // Any Kafka client can write a count the producer never would: two of these overflowed.
      String big =
          new String(
                  CODEC.encodeJobEvent(new JobManifest("j-big", "t", 5, run, now, Map.of())),
                  StandardCharsets.UTF_8)
              .replace("\"count\":5", "\"count\":" + (Long.MAX_VALUE - 1));
      out.add(new ProducerRecord<>(t.jobs(), "j-big", big.getBytes(StandardCharsets.UTF_8)));
    }
    // Then an ordinary job, which must be counted.
    out.add(manifest(t, "j-ok", 2, now));
    out.add(stats(t, "j-ok", now, new OutcomeCounts(2, 0, 0, 0, 0)));
    recordUntilDone(
        f,
        out,
        "j-ok",
        q -> {
          assertThat(q.job("j-far")).isEmpty(); // refused at decoding, logged
          assertThat(q.job("j-big")).isEmpty();
        });
  }

  /**
   * Stats deltas are written by any Kafka client: counts near {@code Long.MAX_VALUE} overflowed the
   * recorder's sums (an exception in Java when two met in one poll, "bigint out of range" in
   * PostgreSQL when they met across polls), the ledger transaction rolled back and every restart
   * met the same batch: the recorder stopped for good. A delta beyond the counts any worker could
   * send is refused at decoding; the sums of many large ones stop at the largest bigint.
   */
  @Test
  void statsCountsThatWouldOverflowNeverStopTheRecorder(TestFleet f) throws Exception {
    RecorderTest.createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    out.add(manifest(t, "j-huge", 5, now));
    for (int i = 0; i < 2; i++) {
      out.add(stats(t, "j-huge", now, new OutcomeCounts(Long.MAX_VALUE, 0, 0, 0, 0)));
    }
    // Within the per-delta limit, but 10,000 of them pass the largest bigint many times over; the
    // job has a manifest, so its completion check adds up its columns too.
    out.add(manifest(t, "j-sum", 5, now));
    long big = 1_000_000_000_000_000L;
    for (int i = 0; i < 10_000; i++) {
      StatsDelta d =
          new StatsDelta(
              "j-sum",
              "t",
              now.truncatedTo(ChronoUnit.MINUTES),
              new OutcomeCounts(big, 0, 0, 0, 0),
              big,
              big,
              LatencyHistogram.of(filled(big)));
      out.add(new ProducerRecord<>(t.stats(), "j-sum", CODEC.encodeStats(d)));
    }
    out.add(stats(t, "j-sum", now, new OutcomeCounts(0, 0, 1, 0, 0))); // one more column, past it
    out.add(manifest(t, "j-ok", 2, now));
    out.add(stats(t, "j-ok", now, new OutcomeCounts(2, 0, 0, 0, 0)));
    recordUntilDone(
        f,
        out,
        "j-ok",
        q -> {
          // The huge deltas were refused, logged; the job is there, with nothing counted.
          assertThat(q.job("j-huge")).hasValueSatisfying(j -> assertThat(j.done()).isFalse());
          // Its own partition may still be on its way: the sum reaches the cap and stays there,
          // and the completion check's sum of columns (one more past the cap) does not overflow.
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> q.job("j-sum").map(j -> j.counts().failed()).orElse(0L) == 1);
          assertThat(q.job("j-sum"))
              .hasValueSatisfying(
                  j -> {
                    assertThat(j.counts().succeeded()).isEqualTo(Long.MAX_VALUE);
                    assertThat(j.done()).isTrue();
                  });
        });
    // The console's sums over such rows read as the largest long too, not as an error.
    try (var ds = RecorderTest.dataSource(f)) {
      ConsoleQueries console = new ConsoleQueries(ds);
      Instant since = now.minus(Duration.ofHours(1));
      assertThat(console.fleetMinutes(since))
          .singleElement()
          .satisfies(m -> assertThat(m.succeeded()).isEqualTo(Long.MAX_VALUE));
      assertThat(console.jobMinutes("j-sum", since))
          .singleElement()
          .satisfies(
              m -> {
                assertThat(m.handlerMillis()).isEqualTo(Long.MAX_VALUE);
                // Buckets at the cap lose their proportions, but a percentile is still a bound.
                assertThat(ConsoleQueries.quantileMs(m.latency(), 0.99)).isPresent();
              });
      assertThat(console.finishedSince(List.of("j-sum", "j-ok"), since))
          .containsEntry("j-sum", Long.MAX_VALUE)
          .containsEntry("j-ok", 2L);
    }
  }

  private static long[] filled(long v) {
    long[] a = new long[LatencyHistogram.BUCKETS];
    java.util.Arrays.fill(a, v);
    return a;
  }

  /**
   * Failure rows are read without their payloads (up to 256 KiB each) and groups are capped: a page
   * of 10,000 items, a replay plan of every row, or one group per item (a message with a per-item
   * word the fingerprint does not mask) loaded everything into the recorder's heap, which also
   * writes the ledger. Payloads are read a batch at a time, for replay only.
   */
  @Test
  void failureListsAndGroupsStayBoundedAndPayloadsAreReadByBatch(TestFleet f) throws Exception {
    try (var ds = RecorderTest.dataSource(f)) {
      LedgerDatabase.migrate(ds);
      try (var c = ds.getConnection();
          var st = c.createStatement()) {
        st.execute(
            "insert into fleet_failures (job, item_key, item, type, outcome, attempts, retryable,"
                + " error_class, error_message, fingerprint, fingerprint_text, first_failed_at,"
                + " last_failed_at, failure_count, last_payload, stack_trace)"
                + " select 'j-many', 'i-' || n, 'i-' || n, 't', 'FAILED', 1, false, 'e',"
                + " 'failed at /data/' || n, 'fp-' || (n % 300), 'x', now(), now(), 1,"
                + " jsonb_build_object('blob', repeat('p', 4096), 'n', n), repeat('s', 2000)"
                + " from generate_series(1, 1200) n");
      }
      LedgerQueries q = new LedgerQueries(ds);
      assertThat(q.failureGroups("j-many", 3)).hasSize(LedgerQueries.MAX_GROUPS);
      List<FailedItem> page = q.failedItems("j-many", Optional.of("fp-7"), 0);
      assertThat(page).hasSize(4).allSatisfy(i -> assertThat(i.lastPayload()).isEmpty());
      assertThat(page.get(0).stackTrace()).hasValueSatisfying(t -> assertThat(t).hasSize(2000));
      List<FailedItem> brief = q.failedItemsBrief("j-many", Optional.empty(), "", 0);
      assertThat(brief)
          .hasSize(1200)
          .allSatisfy(
              i -> {
                assertThat(i.lastPayload()).isEmpty();
                assertThat(i.stackTrace()).isEmpty();
                assertThat(i.errorMessage()).isEmpty();
              });
      var payloads = q.payloads("j-many", List.of("i-1", "i-2", "missing"));
      assertThat(payloads).containsOnlyKeys("i-1", "i-2");
      assertThat(payloads.get("i-2")).contains("\"n\": 2");
    }
  }

  /**
   * The Python client's {@code produce()} writes a manifest with a run of its own per call, so a
   * job produced one item per call has a run per item: the console's job view, which the page asks
   * for every 5 s, listed every one of them (500 MB of JSON for a million runs, up to 32 requests
   * at once, in the process that writes the ledger). It lists the latest ones and says how many
   * there are.
   */
  @Test
  void aJobWithManyRunsListsTheLatestOnes(TestFleet f) throws Exception {
    try (var ds = RecorderTest.dataSource(f)) {
      LedgerDatabase.migrate(ds);
      try (var c = ds.getConnection();
          var st = c.createStatement()) {
        st.execute(
            "insert into fleet_job_runs (job, run_id, type, count, created_at)"
                + " select 'j-runs', 'run-' || n, 't', 1,"
                + " timestamptz '2026-01-01' + n * interval '1 second'"
                + " from generate_series(1, 300000) n");
      }
      ConsoleQueries console = new ConsoleQueries(ds);
      List<ConsoleQueries.Run> runs = console.runs("j-runs");
      assertThat(runs).hasSize(ConsoleQueries.MAX_RUNS);
      assertThat(runs.get(runs.size() - 1).runId()).isEqualTo("run-300000"); // oldest first
      assertThat(runs.get(0).runId()).isEqualTo("run-" + (300_000 - ConsoleQueries.MAX_RUNS + 1));
      assertThat(console.runCount("j-runs")).isEqualTo(ConsoleQueries.MAX_RUN_COUNT + 1);
      assertThat(console.runCount("no-such-job")).isZero();
    }
  }

  /** What a test checks in the ledger. */
  interface LedgerCheck {
    void check(LedgerQueries q) throws Exception;
  }

  /**
   * Sends {@code out}, runs a recorder until {@code job} is done, then checks that the recorder did
   * not stop on the way and is still running, and hands the ledger to {@code then}.
   */
  private static void recordUntilDone(
      TestFleet f, List<ProducerRecord<String, byte[]>> out, String job, LedgerCheck then)
      throws Exception {
    RecorderTest.send(f, out);
    try (Recorder rec =
            Recorder.start(RecorderTest.settings(f, f.jdbcUrl()), Duration.ofSeconds(30));
        var ds = RecorderTest.dataSource(f)) {
      LedgerQueries q = new LedgerQueries(ds);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job(job).map(JobStatus::done).orElse(false) || rec.failure().isPresent());
      assertThat(rec.failure()).isEmpty();
      then.check(q);
      assertThat(rec.isRunning()).isTrue();
    }
  }

  /** A one-run manifest of {@code job} (type "t"), as a producer publishes it. */
  private static ProducerRecord<String, byte[]> manifest(
      FleetTopics t, String job, long count, Instant at) {
    return new ProducerRecord<>(
        t.jobs(),
        job,
        CODEC.encodeJobEvent(new JobManifest(job, "t", count, "run-1", at, Map.of())));
  }

  private static ProducerRecord<String, byte[]> stats(
      FleetTopics t, String job, Instant at, OutcomeCounts counts) {
    StatsDelta d =
        new StatsDelta(
            job,
            "t",
            at.truncatedTo(ChronoUnit.MINUTES),
            counts,
            0,
            10L,
            LatencyHistogram.empty().plus(10));
    return new ProducerRecord<>(t.stats(), job, CODEC.encodeStats(d));
  }
}
