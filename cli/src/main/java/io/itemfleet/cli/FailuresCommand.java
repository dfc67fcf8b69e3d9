package io.itemfleet.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.FailedItem;
import io.itemfleet.recorder.FailureGroup;
import io.itemfleet.recorder.LedgerQueries;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fleet failures JOB}: the failure ledger, grouped by fingerprint. */
@Command(
    mixinStandardHelpOptions = true,
    name = "failures",
    sortOptions = false,
    description = {
      "Show a job's unresolved failures, grouped by cause.",
      "Groups share a fingerprint (same error class and message shape) and show counts and",
      "sample items; with --fingerprint, the items of one group.",
      "Exit codes: 0 shown, 1 no such job, 2 usage, 3 database unreachable."
    })
final class FailuresCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Parameters(paramLabel = "JOB", description = "The job.")
  String job;

  @Option(names = "--fingerprint", description = "List the items of this group.")
  String fingerprint;

  @Option(names = "--json", description = "JSON output.")
  boolean json;

  @Option(
      names = "--limit",
      defaultValue = "100",
      description = "Items listed with --fingerprint (default ${DEFAULT-VALUE}; 0 for all).")
  int limit;

  @Override
  public Integer call() throws Exception {
    try (HikariDataSource ds = db.openForReading()) {
      LedgerQueries q = new LedgerQueries(ds);
      q.job(job).orElseThrow(() -> StatusCommand.noSuchJob(q, job));
      PrintStream out = System.out;
      if (fingerprint != null) {
        List<FailedItem> items = q.failedItems(job, Optional.of(fingerprint), limit);
        if (json) {
          ArrayNode a = StatusCommand.JSON.createArrayNode();
          for (FailedItem f : items) a.add(toJson(f));
          out.println(StatusCommand.JSON.writeValueAsString(a));
        } else if (items.isEmpty()) {
          out.printf(
              "no unresolved failures with fingerprint %s in job %s%n",
              Terminal.safe(fingerprint), Terminal.safe(job));
        } else {
          for (FailedItem f : items) {
            out.printf(
                Locale.ROOT,
                "%s  %s  attempts %d  %s: %s%n",
                f.lastFailedAt(),
                Terminal.safe(f.itemKey()),
                f.attempts(),
                Terminal.safe(f.errorClass()),
                Terminal.safe(f.errorMessage()));
            f.stackTrace().ifPresent(t -> out.print(indented(t)));
          }
        }
        return 0;
      }
      List<FailureGroup> groups = q.failureGroups(job, 5);
      if (json) {
        out.println(StatusCommand.JSON.writeValueAsString(groupsJson(groups)));
        return 0;
      }
      if (groups.isEmpty()) {
        out.printf("no unresolved failures in job %s%n", job);
        return 0;
      }
      long total = groups.stream().mapToLong(FailureGroup::count).sum();
      out.printf(
          Locale.ROOT,
          "%s unresolved failures in job %s, %d fingerprints:%n%n",
          Terminal.count(total),
          Terminal.safe(job),
          groups.size());
      for (FailureGroup g : groups) {
        out.printf(
            Locale.ROOT,
            "%8s  %s  %s: %s%n          e.g. %s%n          last %s%n%n",
            Terminal.count(g.count()),
            g.fingerprint(),
            Terminal.safe(g.errorClass()),
            Terminal.safe(g.normalisedMessage()),
            Terminal.safe(String.join(", ", g.sampleItems())),
            g.lastFailedAt());
      }
      out.printf(
          "items of a group: fleet failures %s --fingerprint <id>%n", Terminal.shellQuote(job));
      return 0;
    }
  }

  /** Failure groups as {@code fleet failures --json} prints them. */
  static ArrayNode groupsJson(List<FailureGroup> groups) {
    ArrayNode a = StatusCommand.JSON.createArrayNode();
    for (FailureGroup g : groups) {
      ObjectNode o = a.addObject();
      o.put("fingerprint", g.fingerprint());
      o.put("errorClass", g.errorClass());
      o.put("message", g.normalisedMessage());
      o.put("sampleMessage", g.sampleMessage());
      o.put("count", g.count());
      ArrayNode items = o.putArray("sampleItems");
      g.sampleItems().forEach(items::add);
      o.put("firstFailedAt", g.firstFailedAt().toString());
      o.put("lastFailedAt", g.lastFailedAt().toString());
    }
    return a;
  }

  static ObjectNode toJson(FailedItem f) {
    ObjectNode o = StatusCommand.JSON.createObjectNode();
    o.put("job", f.job());
    o.put("item", f.item().orElse(null));
    o.put("itemKey", f.itemKey());
    o.put("type", f.type().orElse(null));
    o.put("outcome", f.outcome());
    o.put("attempts", f.attempts());
    o.put("retryable", f.retryable());
    o.put("errorClass", f.errorClass());
    o.put("errorMessage", f.errorMessage());
    o.put("fingerprint", f.fingerprint());
    o.put("firstFailedAt", f.firstFailedAt().toString());
    o.put("lastFailedAt", f.lastFailedAt().toString());
    o.put("failureCount", f.failureCount());
    o.put("stackTrace", f.stackTrace().orElse(null));
    return o;
  }

  /** A stack trace under its item's line, indented so that the next item stands out. */
  private static String indented(String trace) {
    StringBuilder sb = new StringBuilder();
    for (String line : trace.strip().split("\n")) {
      sb.append("    ").append(Terminal.safe(line.replace("\t", "  "))).append('\n');
    }
    return sb.toString();
  }
}
