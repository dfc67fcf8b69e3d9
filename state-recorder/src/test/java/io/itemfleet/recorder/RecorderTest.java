package io.itemfleet.recorder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.embedded.EmbeddedPostgresServer;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobCompleted;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.LatencyHistogram;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.StatsDelta;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The recorder against a real broker and a real PostgreSQL. */
@ExtendWith(FleetTestKit.class)
class RecorderTest {
  static final MessageCodec CODEC = new MessageCodec();

  @TempDir Path tmp;

  /** What a worker fleet would have sent for one job: stats deltas, failure events, manifests. */
  record Traffic(String job, int items, List<ProducerRecord<String, byte[]>> records) {}

  /**
   * {@code items} outcomes of one job in stats deltas of random sizes over two minutes, one failure
   * event per failed item, and manifests of two runs (one of them sent twice).
   */
  static Traffic traffic(FleetTopics t, String job, int items, long seed) {
    Random r = new Random(seed);
    List<ProducerRecord<String, byte[]>> out = new java.util.ArrayList<>();
    Instant created = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    JobManifest a =
        new JobManifest(job, "sim", items - items / 3, "run-a", created, Map.of("team", "x"));
    JobManifest b = new JobManifest(job, "sim", items / 3, "run-b", created, Map.of());
    out.add(new ProducerRecord<>(t.jobs(), job, CODEC.encodeJobEvent(a)));
    out.add(new ProducerRecord<>(t.jobs(), job, CODEC.encodeJobEvent(b)));
    out.add(new ProducerRecord<>(t.jobs(), job, CODEC.encodeJobEvent(a))); // a redelivered manifest
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    int left = items;
    int item = 0;
    while (left > 0) {
      int n = Math.min(left, 1 + r.nextInt(40));
      int failed = 0;
      for (int i = 0; i < n; i++, item++) {
        if (item % 50 == 7) {
          failed++;
          TaskMessage task = TaskMessage.of(job, "sim", "item-" + item);
          FailureEvent f =
              FailureEvent.failed(
                  task,
                  3,
                  item % 100 == 7,
                  item % 100 == 7 ? "http.503" : "http.404",
                  "POST /process/item-" + item + " returned " + (item % 100 == 7 ? 503 : 404),
                  Instant.now(),
                  Optional.of(new SourceRecord(t.tasks(), 0, item)));
          out.add(new ProducerRecord<>(t.failures(), "item-" + item, CODEC.encodeFailure(f)));
        }
      }
      StatsDelta d =
          new StatsDelta(
              job,
              "sim",
              minute.minus(r.nextInt(2), ChronoUnit.MINUTES),
              new OutcomeCounts(n - failed, 0, failed, 0, 0),
              r.nextInt(3),
              n * 10L,
              LatencyHistogram.empty().plus(10));
      out.add(new ProducerRecord<>(t.stats(), job, CODEC.encodeStats(d)));
      left -= n;
    }
    return new Traffic(job, items, out);
  }

  static void send(TestFleet f, List<ProducerRecord<String, byte[]>> records) {
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", f.kafkaBootstrap(), "acks", "all"),
            new StringSerializer(),
            new ByteArraySerializer())) {
      records.forEach(p::send);
      p.flush();
    }
  }

  static void createTopics(TestFleet f) {
    f.createTopics(3, "stats", "failures", "jobs", "tasks");
  }

  static RecorderSettings settings(TestFleet f, String jdbcUrl) {
    return new RecorderSettings(
        Map.of("bootstrap.servers", f.kafkaBootstrap()),
        new FleetTopics(f.prefix()),
        new DbSettings(jdbcUrl, f.dbUser(), f.dbPassword()),
        Duration.ofDays(30),
        Duration.ofHours(1),
        Duration.ofSeconds(2));
  }

  @Test
  void recordsExactTotalsFailureRowsAndCompletion(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Traffic traffic = traffic(t, "job-1", 3000, 1);
    send(f, traffic.records());
    try (Recorder rec = Recorder.start(settings(f, f.jdbcUrl()), Duration.ofSeconds(30))) {
      LedgerQueries q = new LedgerQueries(dataSource(f));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("job-1").map(JobStatus::done).orElse(false));
      JobStatus s = q.job("job-1").orElseThrow();
      assertThat(s.total()).contains(3000L);
      assertThat(s.counts().total()).isEqualTo(3000);
      assertThat(s.counts().failed()).isEqualTo(60); // items 7, 57, 107, ... below 3000
      assertThat(s.labels()).containsEntry("team", "x");
      assertThat(q.failedItems("job-1", Optional.empty(), 0)).hasSize(60);
      List<FailureGroup> groups = q.failureGroups("job-1", 3);
      assertThat(groups).hasSize(2); // 503s and 404s, whatever the item and number
      assertThat(groups.get(0).count() + groups.get(1).count()).isEqualTo(60);
      assertThat(groups.get(0).normalisedMessage()).contains("<item>");
      for (FailureGroup g : groups) { // the latest message and the latest three items of each
        assertThat(g.sampleItems()).hasSize(3).doesNotHaveDuplicates();
        assertThat(g.sampleMessage()).contains(g.sampleItems().get(0));
        assertThat(q.failedItems("job-1", Optional.of(g.fingerprint()), 0))
            .filteredOn(i -> i.itemKey().equals(g.sampleItems().get(2)))
            .singleElement()
            .satisfies(
                oldest ->
                    assertThat(q.failedItems("job-1", Optional.of(g.fingerprint()), 0))
                        .filteredOn(i -> !g.sampleItems().contains(i.itemKey()))
                        .allSatisfy(
                            i ->
                                assertThat(i.lastFailedAt())
                                    .isBeforeOrEqualTo(oldest.lastFailedAt())));
      }
      // Nothing but failures and aggregates: no row per successful item.
      Map<String, Long> rows = q.rowCounts();
      assertThat(rows.get("fleet_failures")).isEqualTo(60);
      assertThat(rows.get("fleet_jobs")).isEqualTo(1);
      assertThat(rows.get("fleet_job_runs")).isEqualTo(2);
      assertThat(rows.get("fleet_job_minutes")).isBetween(1L, 2L);
      // The completion is published for downstream consumers.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  f.readCommitted(t.jobs()).stream()
                      .map(r -> CODEC.decodeJobEvent(r.value()).orThrow())
                      .anyMatch(e -> e instanceof JobCompleted c && c.job().equals("job-1")));
    }
  }

  /**
   * A completion event Kafka refuses (here: over the producer's max.request.size; in production an
   * expired delivery or a denied write) stays unpublished and is sent again. Before, the send's
   * failed future was ignored and the completion marked published, so it was never delivered.
   */
  @Test
  void aCompletionKafkaRefusesIsNotMarkedPublished(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    send(f, traffic(t, "job-r", 50, 3).records());
    RecorderSettings s = settings(f, f.jdbcUrl());
    Map<String, Object> kafka = new HashMap<>(s.kafka());
    kafka.put("max.request.size", 100);
    RecorderSettings refused =
        new RecorderSettings(
            kafka, s.topics(), s.db(), s.retention(), s.retentionEvery(), s.maxBackoff());
    try (Recorder rec = Recorder.start(refused, Duration.ofSeconds(30));
        var ds = dataSource(f)) {
      LedgerQueries q = new LedgerQueries(ds);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("job-r").map(JobStatus::done).orElse(false));
      Thread.sleep(3_000); // batches after the completion: each tries to publish it
      assertThat(new Ledger(ds).unpublishedCompletions())
          .anySatisfy(c -> assertThat(c.job()).isEqualTo("job-r"));
      assertThat(rec.failure()).isEmpty();
    }
    assertThat(
            f.readCommitted(t.jobs()).stream().map(r -> CODEC.decodeJobEvent(r.value()).orThrow()))
        .noneMatch(e -> e instanceof JobCompleted c && c.job().equals("job-r"));
  }

  /**
   * A deadlock with another transaction on the ledger (the API's marking of rows replayed or
   * resolved, which locks rows in its own order): PostgreSQL aborts the recorder's batch, and the
   * recorder applies it again. Before, the error stopped the recorder.
   */
  /**
   * A completion event's key on the compacted jobs topic is its own: before, it was the bare job
   * name, so job "a/close"'s completion took the key of job "a"'s manifest of run "close" (what
   * `fleet jobs close` publishes), and compaction then dropped that manifest.
   */
  @Test
  void aCompletionsKeyIsNeverAManifestsKey(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    send(f, traffic(t, "a/close", 30, 41).records());
    try (Recorder rec = Recorder.start(settings(f, f.jdbcUrl()), Duration.ofSeconds(30))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  f.readCommitted(t.jobs()).stream()
                      .anyMatch(
                          r -> CODEC.decodeJobEvent(r.value()).orThrow() instanceof JobCompleted));
    }
    List<String> keys =
        f.readCommitted(t.jobs()).stream()
            .filter(r -> CODEC.decodeJobEvent(r.value()).orThrow() instanceof JobCompleted)
            .map(r -> new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))
            .toList();
    assertThat(keys).isNotEmpty().doesNotContain("a/close");
  }

  @Test
  void aBatchAbortedForADeadlockIsAppliedAgain(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Traffic first = traffic(t, "deadlock-a", 60, 31);
    send(f, first.records());
    try (var ds = dataSource(f);
        var c = ds.getConnection();
        var st = c.createStatement()) {
      // A session looks for a deadlock once, deadlock_timeout after it began to wait: the
      // recorder's after 5 s (the cycle is complete by then), the test's after 60 s, so the
      // recorder's transaction is the one PostgreSQL aborts.
      String db;
      try (ResultSet r = st.executeQuery("select current_database()")) {
        r.next();
        db = r.getString(1);
      }
      st.execute("alter database \"" + db + "\" set deadlock_timeout = '5s'");
    }
    try (Recorder rec = Recorder.start(settings(f, f.jdbcUrl()), Duration.ofSeconds(30));
        var ds = dataSource(f);
        var other = ds.getConnection()) {
      LedgerQueries q = new LedgerQueries(ds);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("deadlock-a").map(JobStatus::done).orElse(false));
      other.setAutoCommit(false);
      try (var st = other.createStatement()) {
        st.execute("set deadlock_timeout = '60s'");
        st.execute("select job from fleet_jobs where job = 'deadlock-a' for update");
        send(f, List.of(stats(t, "deadlock-a")));
        Thread.sleep(1_500); // the recorder's batch now waits for that row, holding its offsets
        try {
          st.execute("select next_offset from fleet_recorder_offsets for update");
        } finally {
          other.rollback();
        }
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  q.job("deadlock-a").orElseThrow().counts().total() == 61
                      || rec.failure().isPresent());
      assertThat(rec.failure()).isEmpty();
      assertThat(q.job("deadlock-a").orElseThrow().counts().total()).isEqualTo(61);
    }
  }

  private static ProducerRecord<String, byte[]> stats(FleetTopics t, String job) {
    StatsDelta d =
        new StatsDelta(
            job,
            "sim",
            Instant.now().truncatedTo(ChronoUnit.MINUTES),
            new OutcomeCounts(1, 0, 0, 0, 0),
            0,
            1L,
            LatencyHistogram.empty());
    return new ProducerRecord<>(t.stats(), job, CODEC.encodeStats(d));
  }

  @Test
  void applyingTheSameRecordsTwiceCountsThemOnce(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Traffic traffic = traffic(t, "job-2", 500, 2);
    // Build the batch the recorder would build from a poll, with real coordinates.
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> byPartition = new HashMap<>();
    long[] next = new long[1];
    for (ProducerRecord<String, byte[]> p : traffic.records()) {
      TopicPartition tp = new TopicPartition(p.topic(), 0);
      byPartition
          .computeIfAbsent(tp, k -> new java.util.ArrayList<>())
          .add(new ConsumerRecord<>(p.topic(), 0, next[0]++, null, p.value()));
    }
    ConsumerRecords<byte[], byte[]> polled = new ConsumerRecords<>(byPartition, Map.of());
    try (var ds = dataSource(f)) {
      LedgerDatabase.migrate(ds);
      Ledger ledger = new Ledger(ds);
      Ledger.Applied first = ledger.apply(IngestBatch.of(polled, t, CODEC), "g");
      Ledger.Applied again = ledger.apply(IngestBatch.of(polled, t, CODEC), "g");
      assertThat(first.skipped()).isZero();
      assertThat(again.skipped()).isEqualTo(traffic.records().size());
      JobStatus s = new LedgerQueries(ds).job("job-2").orElseThrow();
      assertThat(s.counts().total()).isEqualTo(500);
      assertThat(s.total()).contains(500L);
      assertThat(s.done()).isTrue();
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement();
          ResultSet r = st.executeQuery("select sum(failure_count) from fleet_failures")) {
        r.next();
        assertThat(r.getLong(1)).as("each failure event counted once").isEqualTo(10);
      }
    }
  }

  @Test
  void postgresRestartedMidRunLosesAndDoublesNothing(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Path data = tmp.resolve("pg");
    int port;
    Traffic traffic = traffic(t, "job-3", 4000, 3);
    List<ProducerRecord<String, byte[]>> all = traffic.records();
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, true, 0);
    port = pg.port();
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/fleet";
    RecorderSettings settings =
        new RecorderSettings(
            Map.of("bootstrap.servers", f.kafkaBootstrap()),
            t,
            new DbSettings(url, "postgres", ""),
            Duration.ofDays(30),
            Duration.ofHours(1),
            Duration.ofSeconds(1));
    try (Recorder rec = Recorder.start(settings, Duration.ofSeconds(30))) {
      send(f, all.subList(0, all.size() / 2));
      await().atMost(Duration.ofSeconds(30)).until(() -> rec.applied() >= all.size() / 2);
      pg.close(); // PostgreSQL goes away mid-run
      send(f, all.subList(all.size() / 2, all.size()));
      await().atMost(Duration.ofSeconds(30)).until(() -> !rec.isHealthy());
      Thread.sleep(2000); // the recorder holds its batch and backs off meanwhile
      assertThat(rec.isRunning()).isTrue();
      pg = EmbeddedPostgresServer.start(data, true, port); // back, same data, same port
      await().atMost(Duration.ofSeconds(60)).until(rec::isHealthy);
      LedgerQueries q = new LedgerQueries(LedgerDatabase.pool(settings.db(), 1, "test"));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("job-3").map(JobStatus::done).orElse(false));
      JobStatus s = q.job("job-3").orElseThrow();
      assertThat(s.counts().total()).isEqualTo(4000);
      assertThat(s.counts().failed()).isEqualTo(80);
      assertThat(q.failedItems("job-3", Optional.empty(), 0)).hasSize(80);
    } finally {
      pg.close();
    }
  }

  @Test
  void partitionsMovingDuringAPostgresOutageLoseAndDoubleNothing(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    List<Traffic> jobs = new java.util.ArrayList<>();
    for (int j = 0; j < 6; j++) jobs.add(traffic(t, "move-" + j, 600, 10 + j)); // keyed by job
    List<ProducerRecord<String, byte[]>> first = new java.util.ArrayList<>();
    List<ProducerRecord<String, byte[]>> second = new java.util.ArrayList<>();
    for (Traffic tr : jobs) {
      first.addAll(tr.records().subList(0, tr.records().size() / 2));
      second.addAll(tr.records().subList(tr.records().size() / 2, tr.records().size()));
    }
    Path data = tmp.resolve("pg-move");
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, true, 0);
    int port = pg.port();
    RecorderSettings settings = onPrivatePostgres(f, t, port);
    Recorder gone = Recorder.start(settings, Duration.ofSeconds(30));
    try (Recorder stays = Recorder.start(settings, Duration.ofSeconds(30))) {
      send(f, first);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> gone.applied() + stays.applied() >= first.size());
      pg.close(); // PostgreSQL goes away
      send(f, second);
      await().atMost(Duration.ofSeconds(30)).until(() -> !stays.isHealthy() || !gone.isHealthy());
      gone.close(); // its partitions move to the other recorder while the database is down
      Thread.sleep(4000); // the rebalance runs inside the outage; nothing may be read past
      pg = EmbeddedPostgresServer.start(data, true, port);
      LedgerQueries q = new LedgerQueries(LedgerDatabase.pool(settings.db(), 1, "test-move"));
      for (Traffic tr : jobs) awaitExact(q, tr);
      assertThat(stays.isRunning()).isTrue();
    } finally {
      gone.close();
      pg.close();
    }
  }

  /**
   * PostgreSQL comes back from an outage with an older ledger (restored from a backup, or an
   * asynchronous replica promoted) while the recorder holds a batch. Before, the batch's gap was
   * handled with consumption still paused for the outage, so the recorder read nothing more, for
   * ever; and only the partitions with a gap were read again, so the dropped batch's records of the
   * others were lost. Now every partition of the dropped batch is read again from the ledger, and
   * both jobs end exact.
   */
  @Test
  void aLedgerRestoredFromABackupDuringAnOutageIsCaughtUpExactly(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Traffic a = traffic(t, "restore-a", 600, 21);
    Traffic b = traffic(t, "restore-b", 600, 22);
    Path data = tmp.resolve("pg-restore");
    Path backup = tmp.resolve("pg-restore-backup");
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, true, 0);
    int port = pg.port();
    RecorderSettings settings = onPrivatePostgres(f, t, port);
    try {
      try (Recorder first = Recorder.start(settings, Duration.ofSeconds(30))) {
        send(f, a.records());
        await().atMost(Duration.ofSeconds(60)).until(() -> first.applied() >= a.records().size());
      }
      pg.close();
      copyTree(data, backup); // the backup: job a recorded, nothing of b
      pg = EmbeddedPostgresServer.start(data, true, port);
      try (Recorder rec = Recorder.start(settings, Duration.ofSeconds(30))) {
        int half = b.records().size() / 2;
        send(f, b.records().subList(0, half));
        await().atMost(Duration.ofSeconds(60)).until(() -> rec.applied() >= half);
        pg.close(); // the outage
        send(f, b.records().subList(half, b.records().size()));
        await().atMost(Duration.ofSeconds(30)).until(() -> !rec.isHealthy());
        try (var old = java.nio.file.Files.walk(data)) {
          for (Path x : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
            java.nio.file.Files.delete(x);
          }
        }
        copyTree(backup, data); // PostgreSQL comes back with the older ledger
        pg = EmbeddedPostgresServer.start(data, true, port);
        LedgerQueries q = new LedgerQueries(LedgerDatabase.pool(settings.db(), 1, "test-restore"));
        for (Traffic tr : List.of(a, b)) awaitExact(q, tr);
        assertThat(rec.isRunning()).isTrue();
      }
    } finally {
      pg.close();
    }
  }

  /** A recorder's settings on a PostgreSQL of the test's own at {@code port} (it may stop it). */
  private static RecorderSettings onPrivatePostgres(TestFleet f, FleetTopics t, int port) {
    return new RecorderSettings(
        Map.of("bootstrap.servers", f.kafkaBootstrap()),
        t,
        new DbSettings("jdbc:postgresql://127.0.0.1:" + port + "/fleet", "postgres", ""),
        Duration.ofDays(30),
        Duration.ofHours(1),
        Duration.ofSeconds(1));
  }

  /** Waits for a job of 600 items made by {@link #traffic} to be done, then checks it exact. */
  private static void awaitExact(LedgerQueries q, Traffic tr) throws Exception {
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> q.job(tr.job()).map(JobStatus::done).orElse(false));
    JobStatus s = q.job(tr.job()).orElseThrow();
    assertThat(s.counts().total()).as(tr.job()).isEqualTo(600);
    assertThat(q.failedItems(tr.job(), Optional.empty(), 0)).as(tr.job()).hasSize(12);
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (var paths = java.nio.file.Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        // Directories too with their attributes: PostgreSQL wants its data directory 0700.
        java.nio.file.Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  static com.zaxxer.hikari.HikariDataSource dataSource(TestFleet f) {
    return LedgerDatabase.pool(new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword()), 2, "test");
  }

  @Test
  void retentionDeletesJobsThatNeverCompleteOnceNothingUpdatesThem(TestFleet f) throws Exception {
    createTopics(f);
    FleetTopics t = new FleetTopics(f.prefix());
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> polled = new HashMap<>();
    List<ConsumerRecord<byte[], byte[]>> stats = new java.util.ArrayList<>();
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    for (String job : List.of("no-manifest", FailureEvent.UNATTRIBUTED)) {
      StatsDelta d =
          new StatsDelta(
              job,
              "sim",
              minute,
              new OutcomeCounts(3, 0, 0, 0, 0),
              0,
              30,
              LatencyHistogram.empty());
      stats.add(new ConsumerRecord<>(t.stats(), 0, stats.size(), null, CODEC.encodeStats(d)));
    }
    polled.put(new TopicPartition(t.stats(), 0), stats);
    try (var ds = dataSource(f)) {
      LedgerDatabase.migrate(ds);
      Ledger ledger = new Ledger(ds);
      ledger.apply(IngestBatch.of(new ConsumerRecords<>(polled, Map.of()), t, CODEC), "g");
      LedgerQueries q = new LedgerQueries(ds);
      assertThat(q.job("no-manifest")).get().satisfies(s -> assertThat(s.done()).isFalse());
      assertThat(ledger.deleteOlderThan(Instant.now().minus(Duration.ofDays(1)), 100)).isZero();
      long deleted = ledger.deleteOlderThan(Instant.now().plus(Duration.ofMinutes(5)), 100);
      assertThat(deleted).isGreaterThanOrEqualTo(4); // two jobs and their minute rows
      assertThat(q.job("no-manifest")).isEmpty();
      assertThat(q.job(FailureEvent.UNATTRIBUTED)).isEmpty();
    }
  }
}
