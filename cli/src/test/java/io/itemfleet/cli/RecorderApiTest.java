package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.web.MetricsServer;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The recorder's HTTP API and page serve what {@code fleet status} and {@code failures} show. */
@ExtendWith(FleetTestKit.class)
class RecorderApiTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void apiServesJobsFailureGroupsAndTheirItemsAndThePage(TestFleet f) throws Exception {
    TaskHandler api =
        ctx ->
            Integer.parseInt(ctx.item()) <= 5
                ? HandlerResult.failed("api.gone", "item " + ctx.item() + " not found")
                : HandlerResult.succeeded();
    ProduceCommandTest.produceRange(f, 1, "api-job", "t", 50);
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (Worker w =
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "api", 8),
                config,
                HandlerRegistry.create(config, Map.of("t", api)),
                WorkerMetrics.NONE);
        Recorder rec =
            Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofSeconds(30));
        HikariDataSource pool = LedgerDatabase.pool(db, 2, "api-test");
        MetricsServer server =
            MetricsServer.start(
                0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true)) {
      LedgerQueries q = new LedgerQueries(pool);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("api-job").map(s -> s.done()).orElse(false));
      RecorderApi.serve(server, q);
      String base = "http://localhost:" + server.port();

      JsonNode jobs = json(get(base + "/api/jobs"), 200);
      assertThat(jobs).anySatisfy(j -> assertThat(j.get("job").asText()).isEqualTo("api-job"));
      JsonNode job = json(get(base + "/api/jobs/api-job"), 200);
      assertThat(job.get("total").asLong()).isEqualTo(50);
      assertThat(job.get("failed").asLong()).isEqualTo(5);
      assertThat(job.get("done").asBoolean()).isTrue();

      JsonNode groups = json(get(base + "/api/jobs/api-job/failures"), 200);
      assertThat(groups).hasSize(1);
      assertThat(groups.get(0).get("count").asLong()).isEqualTo(5);
      String fp = groups.get(0).get("fingerprint").asText();
      assertThat(json(get(base + "/api/jobs/api-job/failures?fingerprint=" + fp), 200)).hasSize(5);

      assertThat(json(get(base + "/api/jobs/no-such-job"), 404).get("error").asText())
          .contains("no job 'no-such-job'");
      assertThat(json(get(base + "/api/jobs?limit=lots"), 400).get("error").asText())
          .contains("limit");
      HttpResponse<String> page = get(base + "/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
      assertThat(page.body()).contains("ItemFleet").contains("/api/jobs");
      // Review (API, 8): JSON with payloads and stack traces is never sniffed or cached, and no
      // other site may frame the page (its replay button).
      HttpResponse<String> answer = get(base + "/api/jobs/api-job");
      assertThat(answer.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
      assertThat(answer.headers().firstValue("Cache-Control")).contains("no-store");
      assertThat(page.headers().firstValue("Content-Security-Policy"))
          .hasValueSatisfying(c -> assertThat(c).contains("frame-ancestors 'none'"));
      assertThat(page.headers().firstValue("X-Frame-Options")).contains("DENY");
      // Review (security, 2026-11-30): no inline script runs but the page's own, named by its
      // hash; before, 'unsafe-inline' let any markup that reached the page run a script.
      String body = page.body();
      String script = body.substring(body.indexOf("<script>") + 8, body.indexOf("</script>"));
      String hash =
          java.util.Base64.getEncoder()
              .encodeToString(
                  java.security.MessageDigest.getInstance("SHA-256")
                      .digest(script.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertThat(page.headers().firstValue("Content-Security-Policy"))
          .hasValueSatisfying(
              c ->
                  assertThat(c)
                      .doesNotContain("unsafe-inline")
                      .contains("default-src 'none'")
                      .contains("script-src 'sha256-" + hash + "';"));
    }
  }

  @Test
  void apiNeedsItsTokenParsesPathsExactlyAndServesOnlyReads(TestFleet f) throws Exception {
    ProduceCommandTest.produceRange(f, 1, "..", "t", 3); // a manifest: the recorder files the job
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (Recorder rec =
            Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofSeconds(30));
        HikariDataSource pool = LedgerDatabase.pool(db, 2, "api-test-2");
        MetricsServer server =
            MetricsServer.start(
                "127.0.0.1",
                0,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> true)) {
      LedgerQueries q = new LedgerQueries(pool);
      await().atMost(Duration.ofSeconds(60)).until(() -> q.job("..").isPresent());
      RecorderApi.serve(server, q, java.util.Optional.of("s3cret"));
      String base = "http://127.0.0.1:" + server.port();

      assertThat(get(base + "/api/jobs").statusCode()).isEqualTo(401);
      assertThat(get(base + "/api/jobs", "Bearer wrong").statusCode()).isEqualTo(401);
      assertThat(json(get(base + "/api/jobs", "Bearer s3cret"), 200)).isNotEmpty();
      assertThat(get(base + "/metrics").statusCode()).isEqualTo(200); // stays open
      assertThat(get(base + "/health").statusCode()).isEqualTo(200);
      assertThat(get(base + "/").statusCode()).isEqualTo(200); // the page holds no data

      String auth = "Bearer s3cret";
      assertThat(json(get(base + "/api/jobs/%2E%2E", auth), 200).get("job").asText())
          .isEqualTo("..");
      assertThat(json(get(base + "/api/jobs/%2E%2E/failures", auth), 200)).isEmpty();
      assertThat(json(get(base + "/api/jobsfoo", auth), 404).get("error").asText())
          .isEqualTo("no such resource: /api/jobsfoo");
      // A malformed escape never reaches the API: the JDK's HTTP server refuses it with a 400.
      assertThat(rawStatusLine(server.port(), "/api/jobs/x%zz")).contains(" 400 ");
      String longPath = "/api/jobs/" + "a".repeat(100_000);
      HttpResponse<String> big = get(base + longPath, auth);
      assertThat(big.statusCode()).isIn(404, 414, 431);
      assertThat(big.body().length()).isLessThan(1_000);

      // Any name by query parameter, '..' too (a browser cannot send it as a path segment).
      assertThat(json(get(base + "/api/job?name=..", auth), 200).get("job").asText())
          .isEqualTo("..");
      assertThat(json(get(base + "/api/job/failures?name=..", auth), 200)).isEmpty();
      assertThat(json(get(base + "/api/job", auth), 400).get("error").asText()).contains("?name=");
      assertThat(json(get(base + "/api/job?name=nope", auth), 404).get("error").asText())
          .contains("no job 'nope'");

      for (String path : new String[] {"/", "/metrics", "/health", "/api/jobs"}) {
        HttpResponse<String> post =
            http.send(
                HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", auth)
                    .POST(HttpRequest.BodyPublishers.ofString("x"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).as(path).isEqualTo(405);
      }
    }
  }

  @Test
  void replayFromTheApiNeedsATokenShowsADryRunAndReDrivesFailuresSoTheTotalGrows(TestFleet f)
      throws Exception {
    java.util.concurrent.atomic.AtomicBoolean fixed =
        new java.util.concurrent.atomic.AtomicBoolean();
    TaskHandler api =
        ctx ->
            Integer.parseInt(ctx.item()) <= 4 && !fixed.get()
                ? HandlerResult.failed("api.gone", "item " + ctx.item() + " not found")
                : HandlerResult.succeeded();
    ProduceCommandTest.produceRange(f, 1, "rp-job", "t", 20);
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (Worker w =
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "rp", 8),
                config,
                HandlerRegistry.create(config, Map.of("t", api)),
                WorkerMetrics.NONE);
        Recorder rec =
            Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofSeconds(30));
        HikariDataSource pool = LedgerDatabase.pool(db, 2, "api-replay");
        MetricsServer open =
            MetricsServer.start(
                "127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true);
        MetricsServer guarded =
            MetricsServer.start(
                "127.0.0.1",
                0,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> true)) {
      LedgerQueries q = new LedgerQueries(pool);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> q.job("rp-job").map(s -> s.done()).orElse(false));
      assertThat(q.job("rp-job").get().counts().failed()).isEqualTo(4);
      Replayer replayer = new Replayer(q, kafka, topics, java.util.Optional.empty());
      RecorderApi.serve(open, q, java.util.Optional.empty(), java.util.Optional.of(replayer));
      RecorderApi.serve(guarded, q, java.util.Optional.of("t0k"), java.util.Optional.of(replayer));
      String openBase = "http://127.0.0.1:" + open.port();
      String base = "http://127.0.0.1:" + guarded.port();

      // Without a token configured, nobody may replay; with one, only its holder.
      assertThat(json(post(openBase + "/api/jobs/rp-job/replay", null), 403).get("error").asText())
          .contains("FLEET_API_TOKEN");
      assertThat(post(base + "/api/jobs/rp-job/replay", null).statusCode()).isEqualTo(401);
      assertThat(post(base + "/api/jobs/rp-job/replay", "Bearer nope").statusCode()).isEqualTo(401);
      assertThat(get(base + "/api/jobs/rp-job/replay", "Bearer t0k").statusCode()).isEqualTo(405);
      assertThat(
              json(post(base + "/api/jobs/no-job/replay", "Bearer t0k"), 404).get("error").asText())
          .contains("no job 'no-job'");
      // A job named like the action is still a job: its resource is read, not replayed.
      assertThat(json(get(base + "/api/jobs/replay", "Bearer t0k"), 404).get("error").asText())
          .contains("no job 'replay'");
      assertThat(
              json(post(base + "/api/job/replay?name=rp-job&dryRun=true", "Bearer t0k"), 200)
                  .get("toReplay")
                  .asInt())
          .isEqualTo(4);

      JsonNode dry = json(post(base + "/api/jobs/rp-job/replay?dryRun=true", "Bearer t0k"), 200);
      assertThat(dry.get("dryRun").asBoolean()).isTrue();
      assertThat(dry.get("toReplay").asInt()).isEqualTo(4);
      assertThat(dry.has("sent")).isFalse();
      // Defect (API review, 1): an option the API did not know, or a dryRun without "=true", was
      // ignored, so what was meant as a dry run sent every failure for real. A bare ?dryRun is a
      // dry run; anything else unknown is refused.
      JsonNode bare = json(post(base + "/api/jobs/rp-job/replay?dryRun", "Bearer t0k"), 200);
      assertThat(bare.get("dryRun").asBoolean()).isTrue();
      for (String query :
          List.of(
              "dryRun=1",
              "dryRun=TRUE",
              "dry-run=true",
              "dryrun=true",
              "fp=abc",
              "dryRun=true&limit=5",
              "dryRun=true&dryRun=false")) {
        assertThat(
                json(post(base + "/api/jobs/rp-job/replay?" + query, "Bearer t0k"), 400)
                    .get("error")
                    .asText())
            .as(query)
            .contains("nothing was sent");
      }
      Thread.sleep(1_000);
      assertThat(q.job("rp-job").get().total()).contains(20L); // a dry run sends nothing

      fixed.set(true); // the cause is fixed: the replayed items now succeed
      JsonNode done = json(post(base + "/api/jobs/rp-job/replay", "Bearer t0k"), 200);
      assertThat(done.get("sent").asLong()).isEqualTo(4);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  q.job("rp-job")
                      .map(s -> s.total().orElse(0L) == 24 && s.done() && s.resolved() == 4)
                      .orElse(false));
      assertThat(q.job("rp-job").get().counts().succeeded()).isEqualTo(20);
      assertThat(
              json(post(base + "/api/jobs/rp-job/replay?dryRun=true", "Bearer t0k"), 200)
                  .get("toReplay")
                  .asInt())
          .as("nothing left to replay")
          .isZero();
    }
  }

  private HttpResponse<String> post(String url, String authorization) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody());
    if (authorization != null) b.header("Authorization", authorization);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String rawStatusLine(int port, String path) throws Exception {
    try (java.net.Socket so = new java.net.Socket("127.0.0.1", port)) {
      so.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String reply =
          new String(so.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return reply.lines().findFirst().orElse("");
    }
  }

  private HttpResponse<String> get(String url, String authorization) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).header("Authorization", authorization).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return StatusCommand.JSON.readTree(r.body());
  }

  /**
   * A token-less API on loopback (as fleet local serves it) answers only requests that name this
   * machine in Host. Before, a web page on another site could point its own host name at 127.0.0.1
   * (DNS rebinding) and read job names, item IDs and errors as "same origin".
   */
  @Test
  void aTokenlessApiOnLoopbackRefusesRequestsForOtherHosts(TestFleet f) throws Exception {
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (HikariDataSource pool = LedgerDatabase.pool(db, 2, "host-test");
        MetricsServer server =
            MetricsServer.start(
                "127.0.0.1",
                0,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> true)) {
      LedgerDatabase.migrate(pool);
      RecorderApi.serve(server, new LedgerQueries(pool));
      int port = server.port();
      assertThat(statusFor(port, "evil.example")).isEqualTo(403);
      assertThat(statusFor(port, "evil.example:" + port)).isEqualTo(403);
      assertThat(statusFor(port, "127.0.0.1:" + port)).isEqualTo(200);
      assertThat(statusFor(port, "localhost:" + port)).isEqualTo(200);
      assertThat(statusFor(port, "[::1]:" + port)).isEqualTo(200);
    }
  }

  /** The status of GET /api/jobs sent with this Host header (a raw request: clients fix Host). */
  private static int statusFor(int port, String host) throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.getOutputStream()
          .write(
              ("GET /api/jobs HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String status =
          new java.io.BufferedReader(
                  new java.io.InputStreamReader(
                      s.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII))
              .readLine();
      return Integer.parseInt(status.split(" ")[1]);
    }
  }
}
