package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.web.MetricsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recorder's read-only HTTP API and web page, beside {@code /metrics} on its port:
 *
 * <ul>
 *   <li>{@code GET /api/jobs?limit=N} — recent jobs, as {@code fleet status --json} prints each;
 *   <li>{@code GET /api/jobs/JOB} — one job; 404 when unknown;
 *   <li>{@code GET /api/jobs/JOB/failures} — unresolved failures grouped by fingerprint; with
 *       {@code ?fingerprint=F&limit=N}, that group's items;
 *   <li>{@code POST /api/jobs/JOB/replay} — what {@code fleet replay JOB} does (one shared
 *       implementation, {@link Replayer}); {@code ?fingerprint=F} for one group, {@code
 *       ?dryRun=true} to see what would be sent. Only with a token: 403 when the recorder has none;
 *   <li>{@code GET /} — a page listing recent jobs and their failure groups, refreshed every 2 s.
 * </ul>
 *
 * <p>Only GET and HEAD are served. With a token ({@code FLEET_API_TOKEN}), every {@code /api/}
 * request needs {@code Authorization: Bearer <token>} (401 otherwise); the page itself holds no
 * data (a browser cannot send a bearer token when it opens a page), asks for the token once and
 * keeps it in {@code sessionStorage}. {@code /metrics} and {@code /health} stay open.
 */
final class RecorderApi {
  private static final Logger log = LoggerFactory.getLogger(RecorderApi.class);

  /** Longest piece of a request echoed back in an error. */
  private static final int ECHO_CHARS = 120;

  /** Ledger reads. */
  private final LedgerQueries queries;

  /** The bearer token every API request must carry, as bytes; empty when none is set. */
  private final Optional<byte[]> token;

  /** Replays failures for {@code POST .../replay}; empty where the API cannot send. */
  private final Optional<Replayer> replayer;

  /** The console's views (overview, minutes, item details, fleet); empty: not served. */
  private final Optional<ConsoleApi> console;

  private RecorderApi(
      LedgerQueries queries,
      Optional<String> token,
      Optional<Replayer> replayer,
      Optional<ConsoleApi> console) {
    this.queries = queries;
    this.replayer = replayer;
    this.console = console;
    this.token = token.filter(t -> !t.isBlank()).map(t -> t.getBytes(StandardCharsets.UTF_8));
  }

  /** Adds the API and the page to {@code server}, open to anyone who reaches it. */
  static void serve(MetricsServer server, LedgerQueries queries) {
    serve(server, queries, Optional.empty());
  }

  /** Adds the API (behind {@code token} when given) and the page to {@code server}. */
  static void serve(MetricsServer server, LedgerQueries queries, Optional<String> token) {
    serve(server, queries, token, Optional.empty());
  }

  /** As above, with replay ({@code POST /api/jobs/JOB/replay}) through {@code replayer}. */
  static void serve(
      MetricsServer server,
      LedgerQueries queries,
      Optional<String> token,
      Optional<Replayer> replayer) {
    serve(server, queries, token, replayer, Optional.empty());
  }

  /** As above, with the console's views. */
  static void serve(
      MetricsServer server,
      LedgerQueries queries,
      Optional<String> token,
      Optional<Replayer> replayer,
      Optional<ConsoleApi> console) {
    RecorderApi api = new RecorderApi(queries, token, replayer, console);
    server.routeWithPost("/api/", api::api);
    server.route("/", api::page);
  }

  private void api(HttpExchange ex) throws IOException {
    if (!authorized(ex)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"itemfleet\"");
      send(ex, 401, error("this API needs Authorization: Bearer <FLEET_API_TOKEN>"));
      return;
    }
    String path = ex.getRequestURI().getRawPath();
    boolean replayPath = path.startsWith("/api/jobs/") && path.endsWith("/replay");
    boolean post = ex.getRequestMethod().equals("POST");
    if (post != replayPath) {
      ex.getResponseHeaders().set("Allow", replayPath ? "POST" : "GET, HEAD");
      send(ex, 405, error((replayPath ? "replay is POST only" : "only GET and HEAD here")));
      return;
    }
    if (replayPath) {
      replay(ex, path);
    } else if (console.isPresent() && consoleView(ex, path)) {
      return;
    } else if (path.equals("/api/jobs") || path.startsWith("/api/jobs/")) {
      jobs(ex);
    } else {
      send(ex, 404, error("no such resource: " + echo(path)));
    }
  }

  /** True without a token, or when the request carries it (compared in constant time). */
  private boolean authorized(HttpExchange ex) {
    if (token.isEmpty()) return true;
    String h = ex.getRequestHeaders().getFirst("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
    byte[] given = h.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    return java.security.MessageDigest.isEqual(given, token.get());
  }

  /** At most {@link #ECHO_CHARS} of what a client sent, safe to put in a reply. */
  private static String echo(String s) {
    return s.length() <= ECHO_CHARS ? s : s.substring(0, ECHO_CHARS) + "…";
  }

  private void jobs(HttpExchange ex) throws IOException {
    try {
      Map<String, String> params = params(ex.getRequestURI().getRawQuery());
      String rest = ex.getRequestURI().getRawPath().substring("/api/jobs".length());
      if (rest.isEmpty() || rest.equals("/")) {
        ArrayNode a = StatusCommand.JSON.createArrayNode();
        for (JobStatus s : queries.recentJobs(intParam(params, "limit", 20, 1000))) {
          a.add(StatusCommand.toJson(s));
        }
        send(ex, 200, a);
        return;
      }
      String[] parts = rest.substring(1).split("/", -1);
      String job = decode(parts[0]);
      Optional<JobStatus> s = queries.job(job);
      if (s.isEmpty()) {
        send(ex, 404, error("no job '" + echo(job) + "' in the ledger"));
      } else if (parts.length == 1) {
        send(ex, 200, StatusCommand.toJson(s.get()));
      } else if (parts.length == 2 && parts[1].equals("failures")) {
        String fingerprint = params.get("fingerprint");
        if (fingerprint == null) {
          send(ex, 200, FailuresCommand.groupsJson(queries.failureGroups(job, 5)));
        } else {
          ArrayNode a = StatusCommand.JSON.createArrayNode();
          for (FailedItem f :
              queries.failedItems(
                  job, Optional.of(fingerprint), intParam(params, "limit", 100, 10_000))) {
            a.add(FailuresCommand.toJson(f));
          }
          send(ex, 200, a);
        }
      } else {
        send(ex, 404, error("no such resource: " + echo(ex.getRequestURI().getRawPath())));
      }
    } catch (IllegalArgumentException e) {
      send(ex, 400, error(echo(e.getMessage())));
    } catch (Exception e) {
      log.warn("API request {} failed: {}", echo(ex.getRequestURI().getRawPath()), e.toString());
      send(ex, 503, error("the ledger cannot be read now: " + e.getMessage()));
    }
  }

  /** Serves a console view when {@code path} names one; false when it names none. */
  private boolean consoleView(HttpExchange ex, String path) throws IOException {
    ConsoleApi c = console.get();
    try {
      Map<String, String> params = params(ex.getRequestURI().getRawQuery());
      if (path.equals("/api/overview")) {
        send(ex, 200, c.overview(params));
        return true;
      }
      if (path.equals("/api/fleet")) {
        Optional<JsonNode> f = c.fleet();
        if (f.isPresent()) send(ex, 200, f.get());
        else send(ex, 404, error("this server does not see the workers' group"));
        return true;
      }
      if (!path.startsWith("/api/jobs/")) return false;
      String[] parts = path.substring("/api/jobs/".length()).split("/", -1);
      if (parts.length == 2 && parts[1].equals("minutes")) {
        String job = decode(parts[0]);
        if (queries.job(job).isEmpty()) {
          send(ex, 404, error("no job '" + echo(job) + "' in the ledger"));
        } else {
          send(ex, 200, c.jobMinutes(job, params));
        }
        return true;
      }
      if (parts.length == 4 && parts[1].equals("failures") && parts[3].equals("items")) {
        send(ex, 200, c.items(decode(parts[0]), decode(parts[2]), params));
        return true;
      }
      return false;
    } catch (IllegalArgumentException e) {
      send(ex, 400, error(echo(e.getMessage())));
      return true;
    } catch (Exception e) {
      log.warn("console request {} failed: {}", echo(path), e.toString());
      send(ex, 503, error("cannot answer now: " + e.getMessage()));
      return true;
    }
  }

  /** {@code POST /api/jobs/JOB/replay[?fingerprint=F][&dryRun=true]}. */
  private void replay(HttpExchange ex, String path) throws IOException {
    ex.getRequestBody().readAllBytes(); // no body is read; drain it
    if (token.isEmpty()) {
      send(
          ex,
          403,
          error(
              "replay from the API needs FLEET_API_TOKEN set on the recorder (and sent as a bearer token)"));
      return;
    }
    if (replayer.isEmpty()) {
      send(ex, 503, error("this server cannot replay; use fleet replay"));
      return;
    }
    try {
      Map<String, String> params = params(ex.getRequestURI().getRawQuery());
      String segment = path.substring("/api/jobs/".length(), path.length() - "/replay".length());
      if (segment.isEmpty() || segment.contains("/")) {
        send(ex, 404, error("no such resource: " + echo(path)));
        return;
      }
      String job = decode(segment);
      Optional<String> fingerprint = Optional.ofNullable(params.get("fingerprint"));
      boolean dryRun = "true".equals(params.get("dryRun"));
      Replayer.Plan plan = replayer.get().plan(job, fingerprint);
      if (dryRun) {
        send(ex, 200, Replayer.toJson(plan, Optional.empty()));
        return;
      }
      Replayer.Outcome out = replayer.get().run(plan);
      log.info(
          "replay of job {} from the API: {} sent, {} resolved as done already",
          job,
          out.sent(),
          plan.doneAlready().size());
      send(ex, out.complete() ? 200 : 502, Replayer.toJson(plan, Optional.of(out)));
    } catch (Replayer.NoSuchJob e) {
      send(ex, 404, error(echo(e.getMessage())));
    } catch (IllegalArgumentException e) {
      send(ex, 400, error(echo(e.getMessage())));
    } catch (Replayer.RedisUnavailable e) {
      send(ex, 503, error(e.getMessage()));
    } catch (Exception e) {
      log.warn("replay request {} failed: {}", echo(path), e.toString());
      send(ex, 503, error("replay failed: " + e.getMessage()));
    }
  }

  /** A percent-encoded path segment; a bad escape is the client's error (400), named. */
  private static String decode(String segment) {
    try {
      return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "bad percent-encoding in '" + echo(segment) + "': " + e.getMessage());
    }
  }

  private void page(HttpExchange ex) throws IOException {
    if (!ex.getRequestURI().getRawPath().equals("/")) {
      send(ex, 404, error("no such resource: " + echo(ex.getRequestURI().getRawPath())));
      return;
    }
    try (InputStream in = RecorderApi.class.getResourceAsStream("/recorder-page.html")) {
      byte[] html = in.readAllBytes();
      ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self' 'unsafe-inline'");
      if (ex.getRequestMethod().equals("HEAD")) {
        ex.sendResponseHeaders(200, -1);
        ex.close();
        return;
      }
      ex.sendResponseHeaders(200, html.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(html);
      }
    }
  }

  private static ObjectNode error(String message) {
    return StatusCommand.JSON.createObjectNode().put("error", message);
  }

  private static void send(HttpExchange ex, int code, JsonNode body) throws IOException {
    byte[] bytes = StatusCommand.JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(code, -1);
      ex.close();
      return;
    }
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Map<String, String> params(String rawQuery) {
    Map<String, String> out = new HashMap<>();
    if (rawQuery == null) return out;
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        try {
          out.put(
              URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "bad percent-encoding in the query '" + echo(pair) + "': " + e.getMessage());
        }
      }
    }
    return out;
  }

  static int intParam(Map<String, String> params, String name, int dflt, int max) {
    String v = params.get(name);
    if (v == null) return dflt;
    try {
      int n = Integer.parseInt(v);
      if (n >= 1 && n <= max) return n;
    } catch (NumberFormatException e) {
      // falls through
    }
    throw new IllegalArgumentException(name + " must be a whole number in [1, " + max + "]");
  }
}
