package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.worker.MetricsServer;
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
 */
final class RecorderApi {
  private static final Logger log = LoggerFactory.getLogger(RecorderApi.class);

  /** Ledger reads. */
  private final LedgerQueries queries;

  private RecorderApi(LedgerQueries queries) {
    this.queries = queries;
  }

  /** Adds the API and the page to {@code server}. */
  static void serve(MetricsServer server, LedgerQueries queries) {
    RecorderApi api = new RecorderApi(queries);
    server.route("/api/jobs", api::jobs);
    server.route("/", api::page);
  }

  private void jobs(HttpExchange ex) throws IOException {
    try {
      if (!ex.getRequestMethod().equals("GET")) {
        send(ex, 405, error("only GET is served here"));
        return;
      }
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
      String job = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
      Optional<JobStatus> s = queries.job(job);
      if (s.isEmpty()) {
        send(ex, 404, error("no job '" + job + "' in the ledger"));
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
        send(ex, 404, error("no such resource: " + ex.getRequestURI().getPath()));
      }
    } catch (IllegalArgumentException e) {
      send(ex, 400, error(e.getMessage()));
    } catch (Exception e) {
      log.warn("API request {} failed: {}", ex.getRequestURI(), e.toString());
      send(ex, 503, error("the ledger cannot be read now: " + e.getMessage()));
    }
  }

  private void page(HttpExchange ex) throws IOException {
    if (!ex.getRequestURI().getPath().equals("/")) {
      send(ex, 404, error("no such resource: " + ex.getRequestURI().getPath()));
      return;
    }
    try (InputStream in = RecorderApi.class.getResourceAsStream("/recorder-page.html")) {
      byte[] html = in.readAllBytes();
      ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
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
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
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
