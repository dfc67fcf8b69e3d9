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

  private RecorderApi(LedgerQueries queries, Optional<String> token) {
    this.queries = queries;
    this.token = token.filter(t -> !t.isBlank()).map(t -> t.getBytes(StandardCharsets.UTF_8));
  }

  /** Adds the API and the page to {@code server}, open to anyone who reaches it. */
  static void serve(MetricsServer server, LedgerQueries queries) {
    serve(server, queries, Optional.empty());
  }

  /** Adds the API (behind {@code token} when given) and the page to {@code server}. */
  static void serve(MetricsServer server, LedgerQueries queries, Optional<String> token) {
    RecorderApi api = new RecorderApi(queries, token);
    server.route("/api/", api::api);
    server.route("/", api::page);
  }

  private void api(HttpExchange ex) throws IOException {
    if (!authorized(ex)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"itemfleet\"");
      send(ex, 401, error("this API needs Authorization: Bearer <FLEET_API_TOKEN>"));
      return;
    }
    String path = ex.getRequestURI().getRawPath();
    if (path.equals("/api/jobs") || path.startsWith("/api/jobs/")) {
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

  private static int intParam(Map<String, String> params, String name, int dflt, int max) {
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
