package io.itemfleet.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.embedded.EmbeddedPostgresServer;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.TaskMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Recorder rows: what 1,000,000 items with 1% failures leave in PostgreSQL (worker and recorder for
 * real), and how fast the recorder ingests failure events. FLEET_DB_URL (with FLEET_DB_USER,
 * FLEET_DB_PASSWORD) selects a server; else one is embedded. Each row uses a fresh database.
 */
final class RecorderBench {
  private RecorderBench() {}

  static void run(String bootstrap, int items, Path work, ResultTable table) throws Exception {
    String env = System.getenv("FLEET_DB_URL");
    EmbeddedPostgresServer pg =
        env == null ? EmbeddedPostgresServer.start(work.resolve("pg"), false) : null;
    try {
      rowsPerJob(bootstrap, items, db(pg, "bench_rows_" + System.nanoTime()), table);
      ingestRate(bootstrap, 200_000, db(pg, "bench_ingest_" + System.nanoTime()), table);
    } finally {
      if (pg != null) pg.close();
    }
  }

  private static DbSettings db(EmbeddedPostgresServer pg, String name) {
    if (pg != null) return new DbSettings(pg.jdbcUrl(name), "postgres", "");
    String url = System.getenv("FLEET_DB_URL");
    String base = url.substring(0, url.lastIndexOf('/') + 1);
    return new DbSettings(
        base + name,
        System.getenv().getOrDefault("FLEET_DB_USER", "postgres"),
        System.getenv("FLEET_DB_PASSWORD"));
  }

  private static RecorderSettings settings(String bootstrap, FleetTopics t, DbSettings db) {
    return RecorderSettings.defaults(Map.of("bootstrap.servers", bootstrap), t, db);
  }

  static void rowsPerJob(String bootstrap, int items, DbSettings db, ResultTable table)
      throws Exception {
    FleetTopics t =
        WorkerBench.backlog(bootstrap, "bench-rows-" + System.nanoTime(), items, "sim", 12);
    WorkerBench.drainWithWorker(
        bootstrap,
        t,
        items,
        256,
        "types:\n  sim: {handler: simulate, permanentFailureRate: 0.01}\n");
    long t0 = System.nanoTime();
    try (Recorder rec = Recorder.start(settings(bootstrap, t, db), Duration.ofSeconds(60));
        HikariDataSource ds = LedgerDatabase.pool(db, 1, "bench")) {
      LedgerQueries q = new LedgerQueries(ds);
      while (!q.job("bench").map(JobStatus::done).orElse(false)) {
        if (!rec.isRunning())
          throw new IllegalStateException("recorder stopped", rec.failure().orElse(null));
        Thread.sleep(50);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      JobStatus s = q.job("bench").orElseThrow();
      Map<String, Long> rows = q.rowCounts();
      long failures = rows.get("fleet_failures");
      long aggregates =
          rows.get("fleet_jobs") + rows.get("fleet_job_runs") + rows.get("fleet_job_minutes");
      long total = rows.values().stream().mapToLong(Long::longValue).sum();
      table.add(
          String.format(
              "rows in PostgreSQL after %,d items with 1%% permanent failures (worker + recorder, job done in the ledger)",
              items),
          String.format("%,d rows", total),
          String.format(
              "%,d failures (%,d FAILED outcomes) + %,d aggregate rows + %,d offset rows",
              failures, s.counts().failed(), aggregates, rows.get("fleet_recorder_offsets")),
          String.format("%s; ingested in %.1f s", rows, secs),
          "failures + aggregates only");
      System.err.printf("recorder rows: %s, %,d failed outcomes%n", rows, s.counts().failed());
    }
  }

  static void ingestRate(String bootstrap, int events, DbSettings db, ResultTable table)
      throws Exception {
    FleetTopics t = new FleetTopics("bench-ingest-" + System.nanoTime());
    try (var admin =
        new io.itemfleet.producer.TopicAdmin(
            Map.of("bootstrap.servers", bootstrap), t, Duration.ofSeconds(30))) {
      admin.ensureTopics(12, (short) 1);
    }
    MessageCodec codec = new MessageCodec();
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrap, "linger.ms", 10, "compression.type", "lz4"),
            new StringSerializer(),
            new ByteArraySerializer())) {
      Instant now = Instant.now();
      for (int i = 0; i < events; i++) {
        TaskMessage task = TaskMessage.of("ingest", "sim", "item-" + i);
        FailureEvent f =
            FailureEvent.failed(
                task,
                4,
                true,
                "http.503",
                "POST /process/item-" + i + " returned 503 after " + (i % 900) + " ms",
                now,
                Optional.of(new SourceRecord(t.tasks(), i % 12, i)));
        p.send(new ProducerRecord<>(t.failures(), "item-" + i, codec.encodeFailure(f)));
      }
      p.flush();
    }
    long t0 = System.nanoTime();
    try (Recorder rec = Recorder.start(settings(bootstrap, t, db), Duration.ofSeconds(60))) {
      while (rec.applied() < events) {
        if (!rec.isRunning())
          throw new IllegalStateException("recorder stopped", rec.failure().orElse(null));
        Thread.sleep(20);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      double rate = events / secs;
      table.add(
          String.format(
              "recorder ingest of %,d failure events (from recorder start, incl. schema migration, to the last row committed)",
              events),
          ResultTable.rate(rate) + " rows",
          String.format("%.1f s", secs),
          "",
          "≥ 20,000 rows/s");
      System.err.printf(
          "recorder ingest: %,d failure rows in %.1f s = %,.0f rows/s%n", events, secs, rate);
    }
  }
}
