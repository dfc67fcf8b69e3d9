package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.recorder.ConsoleQueries;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerQueries;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's views as JSON (the page is one client of them); the recorder's {@link RecorderApi}
 * routes to it and answers errors:
 *
 * <ul>
 *   <li>{@code GET /api/overview?q=&type=&state=running|done&limit=&offset=&hours=} — a page of
 *       jobs (newest first, with rate over the last 5 minutes and ETA), how many match, and the
 *       fleet's items per minute by outcome over the last hours;
 *   <li>{@code GET /api/jobs/JOB/minutes?hours=} — the job's per-minute outcomes, retries and
 *       p50/p95/p99 handler latency (from the latency buckets), and its latest 100 runs
 *       (manifests), with {@code runsTotal} (at least, with {@code runsTotalIsAtLeast}, 100,000);
 *   <li>{@code GET /api/jobs/JOB/failures/FINGERPRINT/items?limit=} — a group's items with
 *       attempts, first and last failure, message, stack trace, Kafka coordinates, last payload
 *       (cut at 4 KiB) and the commands to act on them;
 *   <li>{@code GET /api/fleet} — the workers' group: members, partitions, lag per topic, retry
 *       backlog.
 * </ul>
 */
final class ConsoleApi {
  private final LedgerQueries ledger;
  private final ConsoleQueries console;
  private final Optional<FleetView> fleet;

  ConsoleApi(LedgerQueries ledger, ConsoleQueries console, Optional<FleetView> fleet) {
    this.ledger = ledger;
    this.console = console;
    this.fleet = fleet;
  }

  JsonNode overview(Map<String, String> p) throws Exception {
    int limit = RecorderApi.intParam(p, "limit", 50, 500);
    int offset = offset(p.get("offset"));
    int hours = RecorderApi.intParam(p, "hours", 1, 48);
    String state = p.getOrDefault("state", "");
    if (!state.isEmpty() && !state.equals("running") && !state.equals("done")) {
      throw new IllegalArgumentException("state must be running or done");
    }
    LedgerQueries.JobsPage page =
        ledger.jobsPage(p.getOrDefault("q", ""), p.getOrDefault("type", ""), state, limit, offset);
    Instant now = Instant.now();
    Map<String, Long> recent =
        console.finishedSince(
            page.jobs().stream().map(JobStatus::job).toList(), now.minus(Duration.ofMinutes(5)));
    ObjectNode out = StatusCommand.JSON.createObjectNode();
    out.put("matching", page.matching());
    out.put("offset", offset);
    out.put("limit", limit);
    ArrayNode jobs = out.putArray("jobs");
    for (JobStatus s : page.jobs()) {
      ObjectNode j = StatusCommand.toJson(s);
      double rate = recent.getOrDefault(s.job(), 0L) / 300.0;
      j.put("ratePerSecond", Math.round(rate * 10) / 10.0);
      if (!s.done() && rate > 0 && s.total().isPresent()) {
        long left = Math.max(0, s.total().get() - s.finished());
        j.put("etaSeconds", Math.round(left / rate));
      }
      jobs.add(j);
    }
    out.set(
        "fleetMinutes", minutes(console.fleetMinutes(now.minus(Duration.ofHours(hours))), false));
    return out;
  }

  JsonNode jobMinutes(String job, Map<String, String> p) throws Exception {
    int hours = RecorderApi.intParam(p, "hours", 6, 24 * 30);
    ObjectNode out = StatusCommand.JSON.createObjectNode();
    out.put("job", job);
    Instant since = Instant.now().minus(Duration.ofHours(hours)).truncatedTo(ChronoUnit.MINUTES);
    out.set("minutes", minutes(console.jobMinutes(job, since), true));
    // The latest runs only (a job can have one per item), and how many there are.
    long total = console.runCount(job);
    boolean more = total > ConsoleQueries.MAX_RUN_COUNT; // counting stopped there
    out.put("runsTotal", more ? ConsoleQueries.MAX_RUN_COUNT : total);
    out.put("runsTotalIsAtLeast", more);
    ArrayNode runs = out.putArray("runs");
    for (ConsoleQueries.Run r : console.runs(job)) {
      runs.addObject()
          .put("runId", r.runId())
          .put("type", r.type())
          .put("count", r.count())
          .put("createdAt", r.createdAt().toString());
    }
    return out;
  }

  JsonNode items(String job, String fingerprint, Map<String, String> p) throws Exception {
    // At most as many as the plain failures list: each item carries its message, stack trace and a
    // cut payload, and any client sets the limit (10,000 of them could hold gigabytes).
    int limit = RecorderApi.intParam(p, "limit", 100, RecorderApi.MAX_ITEMS);
    ArrayNode out = StatusCommand.JSON.createArrayNode();
    for (ConsoleQueries.ItemDetail d : console.items(job, fingerprint, limit)) {
      FailedItem f = d.item();
      ObjectNode o = FailuresCommand.toJson(f);
      d.sourceTopic().ifPresent(t -> o.put("sourceTopic", t));
      d.sourcePartition().ifPresent(x -> o.put("sourcePartition", x));
      d.sourceOffset().ifPresent(x -> o.put("sourceOffset", x));
      d.payload().ifPresent(x -> o.put("payload", x));
      o.put("payloadCut", d.payloadCut());
      ObjectNode cmds = o.putObject("commands");
      cmds.put(
          "list",
          "fleet failures "
              + Terminal.shellQuote(job)
              + " --fingerprint "
              + Terminal.shellQuote(fingerprint));
      cmds.put(
          "replayGroup",
          "fleet replay "
              + Terminal.shellQuote(job)
              + " --fingerprint "
              + Terminal.shellQuote(fingerprint));
      cmds.put("status", "fleet status " + Terminal.shellQuote(job));
      out.add(o);
    }
    return out;
  }

  private static int offset(String v) {
    if (v == null) return 0;
    try {
      int n = Integer.parseInt(v);
      if (n >= 0) return n;
    } catch (NumberFormatException e) {
      // falls through
    }
    throw new IllegalArgumentException("offset must be a whole number >= 0");
  }

  Optional<JsonNode> fleet() throws Exception {
    return fleet.isEmpty() ? Optional.empty() : Optional.of(fleet.get().snapshot());
  }

  private static ArrayNode minutes(List<ConsoleQueries.Minute> rows, boolean latency) {
    ArrayNode a = StatusCommand.JSON.createArrayNode();
    for (ConsoleQueries.Minute m : rows) {
      ObjectNode o = a.addObject();
      o.put("minute", m.minute().toString());
      o.put("succeeded", m.succeeded());
      o.put("cached", m.cached());
      o.put("failed", m.failed());
      o.put("deduplicated", m.deduplicated());
      o.put("poison", m.poison());
      o.put("retries", m.retries());
      if (latency) {
        ConsoleQueries.quantileMs(m.latency(), 0.50).ifPresent(v -> o.put("p50Ms", v));
        ConsoleQueries.quantileMs(m.latency(), 0.95).ifPresent(v -> o.put("p95Ms", v));
        ConsoleQueries.quantileMs(m.latency(), 0.99).ifPresent(v -> o.put("p99Ms", v));
      }
    }
    return a;
  }
}
