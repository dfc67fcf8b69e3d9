package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.embedded.EmbeddedPostgresServer;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleet watch} rides out a PostgreSQL outage in the middle of a job. */
class WatchCommandTest {
  @TempDir Path tmp;

  /**
   * Durations a watch cannot use are usage errors (exit 2), checked before the ledger is opened: a
   * --timeout past about 292 years threw ArithmeticException out of toNanos(), and --interval 0s
   * polled the ledger in a tight loop.
   */
  @Test
  void intervalsAndTimeoutsAWatchCannotUseAreUsageErrors() {
    String[] db = {"--db-url", "jdbc:postgresql://127.0.0.1:1/none"};
    var huge =
        ProduceCommandTest.fleet(concat(new String[] {"watch", "j", "--timeout", "200000d"}, db));
    assertThat(huge.code()).as(huge.err()).isEqualTo(2);
    assertThat(huge.err()).contains("--timeout");
    var zero =
        ProduceCommandTest.fleet(concat(new String[] {"watch", "j", "--interval", "0s"}, db));
    assertThat(zero.code()).as(zero.err()).isEqualTo(2);
    assertThat(zero.err()).contains("--interval");
    var longInterval =
        ProduceCommandTest.fleet(
            concat(new String[] {"watch", "j", "--interval", "9999999999d"}, db));
    assertThat(longInterval.code()).as(longInterval.err()).isEqualTo(2);
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void watchWaitsThroughADatabaseOutageAndEndsWhenTheJobIsDone() throws Exception {
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(tmp.resolve("pg"), true, 0);
    int port = pg.port();
    DbSettings db =
        new DbSettings("jdbc:postgresql://127.0.0.1:" + port + "/fleet", "postgres", "");
    LedgerDatabase.ensureExists(db);
    try (HikariDataSource ds = LedgerDatabase.pool(db, 2, "watch-test")) {
      LedgerDatabase.migrate(ds);
      exec(
          ds,
          "insert into fleet_jobs (job, type, expected_total, created_at, updated_at)"
              + " values ('w', 't', 10, now(), now())");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      LedgerQueries q = new LedgerQueries(ds);
      CompletableFuture<Boolean> done =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return WatchCommand.follow(
                      q,
                      "w",
                      Duration.ofMillis(200),
                      System.nanoTime() + TimeUnit.SECONDS.toNanos(120),
                      new PrintStream(out, true, StandardCharsets.UTF_8));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      Thread.sleep(1000);
      pg.close(); // the ledger goes away mid-job
      Thread.sleep(4000);
      assertThat(done).isNotDone(); // it waits instead of exiting 3
      pg = EmbeddedPostgresServer.start(tmp.resolve("pg"), true, port);
      Thread.sleep(2000);
      exec(ds, "update fleet_jobs set succeeded = 10, completed_at = now() where job = 'w'");
      assertThat(done.get(60, TimeUnit.SECONDS)).isTrue();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("job w (t): done");
    } finally {
      pg.close();
    }
  }

  private static void exec(HikariDataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
