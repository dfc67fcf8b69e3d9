package io.itemfleet.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.cli.RecorderWeb;
import io.itemfleet.embedded.EmbeddedPostgresServer;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.web.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * The console's API with 10,000 jobs in the ledger: how long the overview (a page of 50 jobs with
 * rates, and the fleet's per-minute series), its last page, a name filter and a job's minutes take
 * to answer over HTTP. Median and 95th percentile of 30 requests each, after 5 unmeasured ones.
 */
final class ConsoleBench {
  private ConsoleBench() {}

  static void run(String bootstrap, Path work, ResultTable table) throws Exception {
    String env = System.getenv("FLEET_DB_URL");
    EmbeddedPostgresServer pg =
        env == null ? EmbeddedPostgresServer.start(work.resolve("pg-console"), false) : null;
    try {
      DbSettings db =
          pg != null
              ? new DbSettings(pg.jdbcUrl("bench_console_" + System.nanoTime()), "postgres", "")
              : new DbSettings(
                  env.substring(0, env.lastIndexOf('/') + 1) + "bench_console_" + System.nanoTime(),
                  System.getenv().getOrDefault("FLEET_DB_USER", "postgres"),
                  System.getenv("FLEET_DB_PASSWORD"));
      LedgerDatabase.ensureExists(db);
      int jobs = 10_000;
      try (HikariDataSource ds = LedgerDatabase.pool(db, 2, "bench-console")) {
        LedgerDatabase.migrate(ds);
        fill(ds, jobs);
      }
      try (MetricsServer server =
              MetricsServer.start(
                  "127.0.0.1",
                  0,
                  new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                  () -> true);
          RecorderWeb web =
              RecorderWeb.serve(
                  server,
                  db,
                  Map.of("bootstrap.servers", bootstrap),
                  new FleetTopics("bench-console"),
                  Optional.empty(),
                  Optional.empty())) {
        String base = "http://127.0.0.1:" + server.port();
        HttpClient http = HttpClient.newHttpClient();
        for (String[] c :
            new String[][] {
              {"/api/overview?limit=50", "overview, first page of 50 (rates, fleet minutes)"},
              {"/api/overview?limit=50&offset=9950", "overview, last page"},
              {"/api/overview?q=job-0777&state=running", "overview, name filter"},
              {"/api/jobs/job-00042/minutes", "a job's minutes (60 rows, p50/p95/p99)"}
            }) {
          double[] ms = time(http, base + c[0]);
          table.add(
              String.format(
                  "console API with %,d jobs in the ledger: %s, `GET %s` (median and p95 of 30)",
                  jobs, c[1], c[0]),
              String.format("%.1f ms", median(ms)),
              String.format("p95 %.1f ms", p95(ms)),
              "",
              "< 200 ms");
        }
      }
    } finally {
      if (pg != null) pg.close();
    }
  }

  /** 10,000 jobs, a tenth of them running; the first 100 with an hour of per-minute rows. */
  private static void fill(HikariDataSource ds, int jobs) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement j =
          c.prepareStatement(
              "insert into fleet_jobs (job, type, expected_total, created_at, updated_at,"
                  + " completed_at, succeeded, failed) values (?, 'sim', 1000, ?, ?, ?, ?, ?)")) {
        for (int i = 0; i < jobs; i++) {
          Timestamp created = Timestamp.from(now.minusSeconds(60L * (jobs - i)));
          j.setString(1, String.format("job-%05d", i));
          j.setTimestamp(2, created);
          j.setTimestamp(3, created);
          boolean running = i % 10 == 0;
          j.setTimestamp(4, running ? null : created);
          j.setLong(5, running ? 500 : 990);
          j.setLong(6, running ? 5 : 10);
          j.addBatch();
        }
        j.executeBatch();
      }
      try (PreparedStatement m =
          c.prepareStatement(
              "insert into fleet_job_minutes (job, type, minute, succeeded, cached, failed,"
                  + " deduplicated, poison, retries, handler_millis, latency)"
                  + " values (?, 'sim', ?, 15, 0, 1, 0, 0, 2, 300, ?)")) {
        Long[] buckets = new Long[15];
        Arrays.fill(buckets, 0L);
        buckets[3] = 10L;
        buckets[5] = 6L;
        for (int i = 0; i < 100; i++) {
          for (int k = 0; k < 60; k++) {
            m.setString(1, String.format("job-%05d", i));
            m.setTimestamp(2, Timestamp.from(now.minusSeconds(60L * k)));
            m.setArray(3, c.createArrayOf("bigint", buckets));
            m.addBatch();
          }
        }
        m.executeBatch();
      }
      c.commit();
    }
  }

  private static double[] time(HttpClient http, String url) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(url)).build();
    for (int i = 0; i < 5; i++) check(http.send(req, HttpResponse.BodyHandlers.ofString()), url);
    double[] ms = new double[30];
    for (int i = 0; i < ms.length; i++) {
      long t0 = System.nanoTime();
      check(http.send(req, HttpResponse.BodyHandlers.ofString()), url);
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    return ms;
  }

  private static void check(HttpResponse<String> r, String url) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double p95(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[(int) Math.ceil(0.95 * s.length) - 1];
  }
}
