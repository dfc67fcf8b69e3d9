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
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
 *   <li>the console's views ({@link ConsoleApi}): {@code /api/overview}, {@code /api/fleet}, {@code
 *       /api/jobs/JOB/minutes}, {@code /api/jobs/JOB/failures/FP/items};
 *   <li>every {@code /api/jobs/JOB…} resource also as {@code /api/job…?name=JOB}, for names a
 *       browser cannot put in a path ('.' and '..');
 *   <li>{@code GET /} — the console page.
 * </ul>
 *
 * <p>Only GET and HEAD are served, but for replay. With a token ({@code FLEET_API_TOKEN}), every
 * {@code /api/} request needs {@code Authorization: Bearer <token>} (401 otherwise); the page
 * itself holds no data (a browser cannot send a bearer token when it opens a page), asks for the
 * token once and keeps it in {@code sessionStorage}. {@code /metrics} and {@code /health} stay
 * open.
 */
final class RecorderApi {
  private static final Logger log = LoggerFactory.getLogger(RecorderApi.class);

  /** Longest piece of a request echoed back in an error. */
  private static final int ECHO_CHARS = 120;

  private static final ConsolePage PAGE = ConsolePage.load();

  /** Ledger reads. */
  private final LedgerQueries queries;

  /** The bearer token every API request must carry, as bytes; empty when none is set. */
  private final Optional<byte[]> token;

  /** Replays failures for {@code POST .../replay}; empty where the API cannot send. */
  private final Optional<Replayer> replayer;

  /** The console's views (overview, minutes, item details, fleet); empty: not served. */
  private final Optional<ConsoleApi> console;

  /**
   * True when the API has no token and listens on loopback only (as {@code fleet local} does):
   * requests must then name this machine in {@code Host}. A web page elsewhere can point its own
   * host name at 127.0.0.1 (DNS rebinding) and read a token-less API as "same origin"; its requests
   * still carry that host name.
   */
  private final boolean localHostsOnly;

  private RecorderApi(
      LedgerQueries queries,
      Optional<String> token,
      Optional<Replayer> replayer,
      Optional<ConsoleApi> console,
      boolean loopbackOnly) {
    this.queries = queries;
    this.replayer = replayer;
    this.console = console;
    this.token =
        token
            .map(String::strip)
            .filter(t -> !t.isEmpty())
            .map(t -> t.getBytes(StandardCharsets.UTF_8));
    this.localHostsOnly = this.token.isEmpty() && loopbackOnly;
  }

  /** The {@code Host} names this machine goes by, with or without a port. */
  private static final java.util.regex.Pattern LOCAL_HOST =
      java.util.regex.Pattern.compile(
          "(?i)(localhost|127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|\\[::1\\])(:\\d{1,5})?");

  /** False for a request whose Host is not this machine, when only local hosts are served. */
  private boolean hostAllowed(HttpExchange ex) {
    if (!localHostsOnly) return true;
    String host = ex.getRequestHeaders().getFirst("Host");
    return host != null && LOCAL_HOST.matcher(host.strip()).matches();
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
    RecorderApi api = new RecorderApi(queries, token, replayer, console, server.loopbackOnly());
    // Half the server's threads at most, so that the probes and /metrics are always answered.
    java.util.concurrent.Semaphore slots =
        new java.util.concurrent.Semaphore(MetricsServer.MAX_ROUTED_AT_ONCE);
    server.routeWithPost("/api/", MetricsServer.limited(slots, api::api));
    server.route("/", MetricsServer.limited(slots, api::page));
  }

  /** What a request under {@code /api/job…} asks about one job. */
  private record JobRequest(String job, List<String> rest, Map<String, String> params) {}

  private void api(HttpExchange ex) throws IOException {
    if (!hostAllowed(ex)) {
      send(
          ex,
          403,
          error(
              "this API has no token and serves this machine only: open it as localhost or"
                  + " 127.0.0.1 (or set FLEET_API_TOKEN)"));
      return;
    }
    if (!authorized(ex)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"itemfleet\"");
      send(ex, 401, error("this API needs Authorization: Bearer <FLEET_API_TOKEN>"));
      return;
    }
    String path = ex.getRequestURI().getRawPath();
    boolean post = ex.getRequestMethod().equals("POST");
    try {
      Map<String, String> params = params(ex.getRequestURI().getRawQuery());
      if (path.equals("/api/jobs") || path.equals("/api/jobs/")) {
        if (!readOnly(ex, post)) return;
        ArrayNode a = StatusCommand.JSON.createArrayNode();
        for (JobStatus s : queries.recentJobs(intParam(params, "limit", 20, 1000))) {
          a.add(StatusCommand.toJson(s));
        }
        send(ex, 200, a);
      } else if (console.isPresent() && path.equals("/api/overview")) {
        if (readOnly(ex, post)) send(ex, 200, console.get().overview(params));
      } else if (console.isPresent() && path.equals("/api/fleet")) {
        if (!readOnly(ex, post)) return;
        Optional<JsonNode> f = console.get().fleet();
        if (f.isPresent()) send(ex, 200, f.get());
        else send(ex, 404, error("this server does not see the workers' group"));
      } else {
        Optional<JobRequest> r = jobRequest(path, params);
        if (r.isEmpty()) {
          if (readOnly(ex, post)) send(ex, 404, error("no such resource: " + echo(path)));
        } else {
          job(ex, post, r.get());
        }
      }
    } catch (IllegalArgumentException e) {
      send(ex, 400, error(echo(e.getMessage())));
    } catch (Replayer.NoSuchJob e) {
      send(ex, 404, error(echo(e.getMessage())));
    } catch (Replayer.Busy e) {
      send(ex, 409, error(echo(e.getMessage())));
    } catch (Replayer.RedisUnavailable e) {
      send(ex, 503, error(e.getMessage()));
    } catch (Exception e) {
      log.warn("API request {} failed: {}", echo(path), e.toString());
      send(ex, 503, error("cannot answer now: " + e.getMessage()));
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

  /** A GET or HEAD resource: a POST to it is answered 405 and false returned. */
  private static boolean readOnly(HttpExchange ex, boolean post) throws IOException {
    if (!post) return true;
    ex.getResponseHeaders().set("Allow", "GET, HEAD");
    send(ex, 405, error("only GET and HEAD here"));
    return false;
  }

  /**
   * The job a request is about, in either form: {@code /api/jobs/JOB[/...]} (the name one
   * percent-encoded segment) or {@code /api/job[/...]?name=JOB} (any name, '.' and '..' too, which
   * a browser cannot put in a path).
   */
  private static Optional<JobRequest> jobRequest(String path, Map<String, String> params) {
    if (path.equals("/api/job") || path.startsWith("/api/job/")) {
      String name = params.get("name");
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("/api/job needs ?name=JOB");
      }
      String rest = path.substring("/api/job".length());
      return Optional.of(new JobRequest(name, segments(rest), params));
    }
    if (path.startsWith("/api/jobs/")) {
      String[] parts = path.substring("/api/jobs/".length()).split("/", -1);
      if (parts[0].isEmpty()) return Optional.empty();
      List<String> rest = new ArrayList<>();
      for (int i = 1; i < parts.length; i++) rest.add(decode(parts[i]));
      return Optional.of(new JobRequest(decode(parts[0]), rest, params));
    }
    return Optional.empty();
  }

  private static List<String> segments(String rest) {
    List<String> out = new ArrayList<>();
    for (String p : rest.split("/")) {
      if (!p.isEmpty()) out.add(decode(p));
    }
    return out;
  }

  /** The resources of one job. */
  private void job(HttpExchange ex, boolean post, JobRequest r) throws Exception {
    List<String> rest = r.rest();
    Map<String, String> params = r.params();
    if (rest.equals(List.of("replay"))) {
      if (!post) {
        ex.getResponseHeaders().set("Allow", "POST");
        send(ex, 405, error("replay is POST only"));
      } else {
        replay(ex, r.job(), params);
      }
      return;
    }
    if (!readOnly(ex, post)) return;
    Optional<JobStatus> s = queries.job(r.job());
    if (s.isEmpty()) {
      send(ex, 404, error("no job '" + echo(r.job()) + "' in the ledger"));
    } else if (rest.isEmpty()) {
      send(ex, 200, StatusCommand.toJson(s.get()));
    } else if (rest.equals(List.of("failures"))) {
      String fingerprint = params.get("fingerprint");
      if (fingerprint == null) {
        send(ex, 200, FailuresCommand.groupsJson(queries.failureGroups(r.job(), 5)));
      } else {
        ArrayNode a = StatusCommand.JSON.createArrayNode();
        for (FailedItem f :
            queries.failedItems(
                r.job(), Optional.of(fingerprint), intParam(params, "limit", 100, MAX_ITEMS))) {
          a.add(FailuresCommand.toJson(f));
        }
        send(ex, 200, a);
      }
    } else if (console.isPresent() && rest.equals(List.of("minutes"))) {
      send(ex, 200, console.get().jobMinutes(r.job(), params));
    } else if (console.isPresent()
        && rest.size() == 3
        && rest.get(0).equals("failures")
        && rest.get(2).equals("items")) {
      send(ex, 200, console.get().items(r.job(), rest.get(1), params));
    } else if (console.isPresent()
        && rest.equals(List.of("failures", "items"))
        && params.containsKey("fingerprint")) {
      send(ex, 200, console.get().items(r.job(), params.get("fingerprint"), params));
    } else {
      send(ex, 404, error("no such resource: " + echo(ex.getRequestURI().getRawPath())));
    }
  }

  /** {@code POST …/replay[?fingerprint=F][&dryRun=true]}. */
  private void replay(HttpExchange ex, String job, Map<String, String> params) throws Exception {
    // The body is not read: nothing in it is used, and an unauthenticated client must not be able
    // to make the server hold a large one.
    if (token.isEmpty()) {
      send(
          ex,
          403,
          error(
              "replay from the API needs FLEET_API_TOKEN set on the recorder (and sent as a bearer"
                  + " token)"));
      return;
    }
    if (replayer.isEmpty()) {
      send(ex, 503, error("this server cannot replay; use fleet replay"));
      return;
    }
    // What cannot be taken back is never guessed: an option not known here (a misspelling such as
    // dry-run or fp) or a dryRun that is not true or false refuses the request. Before, any of
    // those
    // was ignored, and what was meant as a dry run sent every failure for real.
    params = replayParams(ex.getRequestURI().getRawQuery()); // bare names kept, repeats refused
    for (String name : params.keySet()) {
      if (!REPLAY_PARAMS.contains(name)) {
        send(
            ex,
            400,
            error(
                "unknown option '"
                    + echo(name)
                    + "' for replay (dryRun, fingerprint); nothing was sent"));
        return;
      }
    }
    String dry = params.get("dryRun");
    if (dry != null && !dry.isEmpty() && !dry.equals("true") && !dry.equals("false")) {
      send(
          ex,
          400,
          error("dryRun must be true or false, was '" + echo(dry) + "'; nothing was sent"));
      return;
    }
    Optional<String> fingerprint = Optional.ofNullable(params.get("fingerprint"));
    boolean dryRun = dry != null && !dry.equals("false"); // a bare ?dryRun is a dry run
    Replayer.Plan plan = replayer.get().plan(job, fingerprint);
    if (dryRun) {
      send(ex, 200, Replayer.toJson(plan, Optional.empty()));
      return;
    }
    Replayer.Outcome out = replayer.get().run(plan);
    if (out.complete()) {
      log.info(
          "replay of job {} from the API: {} sent, {} resolved as done already",
          job,
          out.sent(),
          out.resolved());
    } else {
      log.warn("replay of job {} from the API: {}", job, Replayer.incomplete(out));
    }
    // 502 when incomplete; its "error" says what was sent all the same.
    send(ex, out.complete() ? 200 : 502, Replayer.toJson(plan, Optional.of(out)));
  }

  /** A percent-encoded path segment; a bad escape is the client's error (400), named. */
  static String decode(String segment) {
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
    {
      byte[] html = PAGE.html;
      ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      // Only the page's own script and style block run (by hash, ConsolePage); no other origin may
      // frame it (clickjacking of the replay button), and no link from it sends the page's address
      // on.
      ex.getResponseHeaders().set("Content-Security-Policy", PAGE.contentSecurityPolicy);
      ex.getResponseHeaders().set("X-Frame-Options", "DENY");
      ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      ex.getResponseHeaders().set("Referrer-Policy", "no-referrer");
      ex.getResponseHeaders().set("Cache-Control", "no-store");
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
    // Payloads, messages and stack traces: never sniffed as another type, never kept by a cache.
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.getResponseHeaders().set("Cache-Control", "no-store");
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

  /** The options a replay takes ({@code name} is the job's, on {@code /api/job/replay}). */
  private static final java.util.Set<String> REPLAY_PARAMS =
      java.util.Set.of("dryRun", "fingerprint", "name");

  /**
   * The query's parameters; one without '=' is left out, and a repeated one keeps its last value.
   */
  private static Map<String, String> params(String rawQuery) {
    return params(rawQuery, false);
  }

  /**
   * The query's parameters as a replay reads them: one without '=' (a bare {@code ?dryRun}) has the
   * value "", and one given twice ({@code dryRun=true&dryRun=false}) is refused.
   */
  private static Map<String, String> replayParams(String rawQuery) {
    return params(rawQuery, true);
  }

  private static Map<String, String> params(String rawQuery, boolean strict) {
    Map<String, String> out = new HashMap<>();
    if (rawQuery == null) return out;
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      if (strict && eq != 0 && !pair.isEmpty()) {
        String name;
        String value;
        try {
          name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
          value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "bad percent-encoding in the query '" + echo(pair) + "': " + e.getMessage());
        }
        if (out.put(name, value) != null) {
          throw new IllegalArgumentException(
              "the option '" + echo(name) + "' is given twice; nothing was sent");
        }
      } else if (eq > 0) {
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

  /** Most failed items one request lists, on every endpoint that lists them. */
  static final int MAX_ITEMS = 1_000;

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
