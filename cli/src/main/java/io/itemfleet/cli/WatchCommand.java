package io.itemfleet.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.JobStatus;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.Durations;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fleet watch JOB}: live progress until the job is done. */
@Command(
    mixinStandardHelpOptions = true,
    name = "watch",
    sortOptions = false,
    description = {
      "Follow a job: progress, rate, ETA and failures so far; exits when it is done.",
      "Exit codes: 0 done, 1 timed out, 2 usage, 3 database unreachable."
    })
final class WatchCommand implements Callable<Integer> {
  @Mixin DbOptions db;

  @Parameters(paramLabel = "JOB", description = "The job to follow.")
  String job;

  @Option(
      names = "--interval",
      defaultValue = "1s",
      description = "How often to read the ledger (default ${DEFAULT-VALUE}).")
  String interval;

  @Option(
      names = "--timeout",
      defaultValue = "0",
      description = "Give up after this long (e.g. 10m); 0 waits forever (default).")
  String timeout;

  private static final Duration MIN_INTERVAL = Duration.ofMillis(100);
  private static final Duration MAX_INTERVAL = Duration.ofDays(1);
  private static final Duration MAX_TIMEOUT = Duration.ofDays(3650);

  @Override
  public Integer call() throws Exception {
    Duration every;
    Duration limit;
    try {
      every = Durations.parse(interval);
      limit = "0".equals(timeout) ? Duration.ZERO : Durations.parse(timeout);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    // A zero interval polled the ledger in a tight loop; durations past what a nanosecond clock
    // counts (about 292 years) threw from toNanos() instead of saying so.
    if (every.compareTo(MIN_INTERVAL) < 0 || every.compareTo(MAX_INTERVAL) > 0) {
      throw new UsageException("--interval must be between 100ms and 1d, was " + interval);
    }
    if (limit.isNegative() || limit.compareTo(MAX_TIMEOUT) > 0) {
      throw new UsageException(
          "--timeout must be at most 3650d (0 waits for ever), was " + timeout);
    }
    long deadline = limit.isZero() ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    try (HikariDataSource ds = db.openForReading()) {
      if (follow(new LedgerQueries(ds), job, every, deadline, System.out)) return 0;
      System.err.printf("fleet watch: %s not done after %s%n", Terminal.safe(job), timeout);
      return 1;
    }
  }

  /**
   * Shows a job's progress (a bar on a terminal, a line every 5 s otherwise) until it is done
   * (true, after printing its status) or the deadline (System.nanoTime) passes (false).
   */
  static boolean follow(LedgerQueries q, String job, Duration every, long deadline, PrintStream out)
      throws Exception {
    boolean tty = Terminal.interactive();
    long lastFinished = -1;
    long lastAt = System.nanoTime();
    double rate = 0;
    long lastLine = 0;
    boolean seen = false;
    boolean noTotalExplained = false;
    long backoff = 0; // ms; while the ledger does not answer
    while (true) {
      Optional<JobStatus> s;
      try {
        s = q.job(job);
        if (backoff > 0) System.err.println("fleet watch: PostgreSQL answers again");
        backoff = 0;
      } catch (java.sql.SQLException e) {
        // A hiccup under load (a connection time-out) is no reason to give up on a long job.
        if (System.nanoTime() > deadline) throw e;
        backoff = backoff == 0 ? 500 : Math.min(10_000, backoff * 2);
        if (tty) out.println();
        System.err.printf(
            "fleet watch: cannot read the ledger (%s); retrying in %d ms (--timeout gives up)%n",
            io.itemfleet.schemas.Redaction.text(Terminal.safe(String.valueOf(e.getMessage()))),
            backoff);
        Thread.sleep(backoff);
        continue;
      }
      long now = System.nanoTime();
      if (s.isEmpty()) {
        if (!seen && now - lastLine > 5_000_000_000L) {
          System.err.printf(
              "waiting: %s; it appears once its manifest or first outcome is recorded"
                  + " (--timeout gives up)%n",
              StatusCommand.noSuchJob(q, job).getMessage());
          lastLine = now;
        }
      } else {
        seen = true;
        JobStatus j = s.get();
        if (lastFinished >= 0 && now > lastAt) {
          double r = (j.finished() - lastFinished) / ((now - lastAt) / 1e9);
          rate = rate == 0 ? r : 0.7 * rate + 0.3 * r; // smoothed
        }
        lastFinished = j.finished();
        lastAt = now;
        long failed = j.counts().failedOrPoison();
        if (j.total().isEmpty() && !noTotalExplained) {
          noTotalExplained = true;
          System.err.printf(
              "fleet watch: job %s has no total yet (shown as ?): no manifest was recorded for"
                  + " it. Items sent by fleet produce or clients/python publish one; for items"
                  + " sent otherwise run: fleet jobs close %s --type %s --count N%n",
              Terminal.safe(job), Terminal.shellQuote(job), Terminal.shellQuote(j.type()));
        }
        if (tty) {
          Terminal.bar(out, Terminal.safe(job), j.finished(), j.total().orElse(0L), rate);
          out.printf(Locale.ROOT, "failed %s  ", Terminal.count(failed));
          out.flush();
        } else if (j.done() || now - lastLine >= 5_000_000_000L) {
          out.printf(
              Locale.ROOT,
              "%s: %s/%s finished, %s/s, %s failed, %s retries%n",
              Terminal.safe(job),
              Terminal.count(j.finished()),
              j.total().map(Terminal::count).orElse("?"),
              Terminal.count(Math.round(rate)),
              Terminal.count(failed),
              Terminal.count(j.retries()));
          lastLine = now;
        }
        if (j.done()) {
          if (tty) out.println();
          StatusCommand.printOne(out, j);
          return true;
        }
      }
      if (System.nanoTime() > deadline) {
        if (tty) out.println();
        return false;
      }
      Thread.sleep(every.toMillis());
    }
  }
}
