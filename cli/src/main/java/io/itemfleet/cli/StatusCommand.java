package io.itemfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerQueries;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fleet status [JOB] [--json]}: job totals from the ledger. */
@Command(
    mixinStandardHelpOptions = true,
    name = "status",
    sortOptions = false,
    description = {
      "Show a job's totals by outcome, or the most recent jobs.",
      "Exit codes: 0 shown, 1 no such job, 2 usage, 3 database unreachable or no ledger."
    })
final class StatusCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Mixin DbOptions db;

  @Parameters(arity = "0..1", paramLabel = "JOB", description = "The job; omit for recent jobs.")
  String job;

  @Option(names = "--json", description = "One JSON object (an array without JOB).")
  boolean json;

  @Option(
      names = "--limit",
      defaultValue = "20",
      description = "Jobs listed without JOB (default ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() throws Exception {
    try (HikariDataSource ds = db.openForReading()) {
      LedgerQueries q = new LedgerQueries(ds);
      PrintStream out = System.out;
      if (job != null) {
        JobStatus s = q.job(job).orElseThrow(() -> noSuchJob(q, job));
        if (json) {
          out.println(JSON.writeValueAsString(toJson(s)));
        } else {
          printOne(out, s);
        }
        return 0;
      }
      List<JobStatus> jobs = q.recentJobs(limit);
      if (json) {
        ArrayNode a = JSON.createArrayNode();
        jobs.forEach(s -> a.add(toJson(s)));
        out.println(JSON.writeValueAsString(a));
      } else if (jobs.isEmpty()) {
        out.println("no jobs recorded yet");
      } else {
        out.printf(
            Locale.ROOT,
            "%-24s %-16s %12s %12s %10s %8s  %s%n",
            "JOB",
            "TYPE",
            "DONE/TOTAL",
            "SUCCEEDED",
            "FAILED",
            "RETRIES",
            "STATE");
        for (JobStatus s : jobs) {
          out.printf(
              Locale.ROOT,
              "%-24s %-16s %12s %12s %10s %8s  %s%n",
              Terminal.safe(s.job()),
              Terminal.safe(s.type()),
              Terminal.count(s.finished()) + "/" + s.total().map(Terminal::count).orElse("?"),
              Terminal.count(s.counts().succeededOrCached()),
              Terminal.count(s.counts().failedOrPoison()),
              Terminal.count(s.retries()),
              s.done() ? "done" : "running");
        }
      }
      return 0;
    }
  }

  static CliFailure noSuchJob(LedgerQueries q, String job) {
    String known;
    try {
      known =
          q.recentJobs(5).stream()
              .map(JobStatus::job)
              .reduce((a, b) -> a + ", " + b)
              .orElse("none");
    } catch (Exception e) {
      known = "?";
    }
    return new CliFailure(
        1,
        "no job '"
            + Terminal.safe(job.length() > 200 ? job.substring(0, 200) + "…" : job)
            + "' in the ledger (recent jobs: "
            + Terminal.safe(known)
            + ")");
  }

  /** The contract of `fleet status --json` (README, "Interfaces"), plus a few extras. */
  static ObjectNode toJson(JobStatus s) {
    ObjectNode o = JSON.createObjectNode();
    o.put("job", s.job());
    o.put("type", s.type());
    if (s.total().isPresent()) o.put("total", s.total().get());
    else o.putNull("total");
    o.put("succeeded", s.counts().succeeded());
    o.put("cached", s.counts().cached());
    o.put("failed", s.counts().failed());
    o.put("deduplicated", s.counts().deduplicated());
    o.put("poison", s.counts().poison());
    o.put("retries", s.retries());
    o.put("resolved", s.resolved());
    o.put("done", s.done());
    o.put("finished", s.finished());
    o.put("handlerMillis", s.handlerMillis());
    o.put("createdAt", s.createdAt().toString());
    o.put("updatedAt", s.updatedAt().toString());
    if (s.completedAt().isPresent()) o.put("completedAt", s.completedAt().get().toString());
    else o.putNull("completedAt");
    ObjectNode labels = o.putObject("labels");
    s.labels().forEach(labels::put);
    return o;
  }

  static void printOne(PrintStream out, JobStatus s) {
    out.printf(
        Locale.ROOT,
        "job %s (%s): %s%n",
        Terminal.safe(s.job()),
        Terminal.safe(s.type()),
        s.done()
            ? "done at " + s.completedAt().get()
            : "running, "
                + Terminal.count(s.finished())
                + " of "
                + s.total().map(Terminal::count).orElse("? (no manifest yet)")
                + " finished");
    out.printf(
        Locale.ROOT, "  total         %s%n", s.total().map(Terminal::count).orElse("unknown"));
    out.printf(Locale.ROOT, "  succeeded     %s%n", Terminal.count(s.counts().succeeded()));
    out.printf(Locale.ROOT, "  cached        %s%n", Terminal.count(s.counts().cached()));
    out.printf(Locale.ROOT, "  failed        %s%n", Terminal.count(s.counts().failed()));
    out.printf(Locale.ROOT, "  deduplicated  %s%n", Terminal.count(s.counts().deduplicated()));
    out.printf(Locale.ROOT, "  poison        %s%n", Terminal.count(s.counts().poison()));
    out.printf(Locale.ROOT, "  retries       %s%n", Terminal.count(s.retries()));
    if (s.resolved() > 0) {
      out.printf(
          Locale.ROOT,
          "  resolved      %s (failed items that succeeded when replayed)%n",
          Terminal.count(s.resolved()));
    }
    if (s.finished() > 0) {
      out.printf(
          Locale.ROOT,
          "  mean handler  %.1f ms%n",
          (double) s.handlerMillis() / Math.max(1, s.finished()));
    }
    if (s.unresolved() > 0) {
      out.printf("  see: fleet failures %s%n", Terminal.shellQuote(s.job()));
    }
  }
}
