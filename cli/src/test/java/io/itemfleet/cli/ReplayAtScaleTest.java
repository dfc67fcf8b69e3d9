package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.UnifiedJedis;

/**
 * A replay of a job with hundreds of thousands of failures runs in a small heap: the plan and the
 * run read the failure rows a page at a time. They read every row at once (a few hundred bytes
 * each, and the JDBC driver's copy beside them), so a console replay of a big job could take the
 * recorder, the process that writes the ledger, down with an OutOfMemoryError.
 */
@ExtendWith(FleetTestKit.class)
class ReplayAtScaleTest {
  private static final int FAILED = 300_000;
  private static final int POISON = 1_000;

  /** Reading every row at once ran out of this heap on the dry run already (exit 3). */
  private static final List<String> SMALL_HEAP = List.of("-Xmx96m", "-XX:+ExitOnOutOfMemoryError");

  @Test
  void aReplayOfHundredsOfThousandsOfFailuresRunsInASmallHeap(TestFleet f) throws Exception {
    String job = "big-replay";
    f.createTopics(2, "tasks", "jobs");
    try (var ds =
        LedgerDatabase.pool(new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword()), 2, "test")) {
      LedgerDatabase.migrate(ds);
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "insert into fleet_jobs (job, type, expected_total, created_at, updated_at, failed,"
                + " poison) values ('"
                + job
                + "', 't', "
                + (FAILED + POISON)
                + ", now(), now(), "
                + FAILED
                + ", "
                + POISON
                + ")");
        st.execute(failures(job, "FAILED", 1, FAILED));
        st.execute(failures(job, "POISON", FAILED + 1, FAILED + POISON));
      }
      // Every tenth item is done since: its done marker says so, and the replay resolves its row.
      MarkerLayout layout = MarkerLayout.KEYS;
      FleetTopics topics = new FleetTopics(f.prefix());
      try (UnifiedJedis r = RedisClients.open(RedisClients.parse(f.redisUrl()));
          AbstractPipeline p = r.pipelined()) {
        for (int n = 10; n <= FAILED; n += 10) {
          String marker = "D|SUCCEEDED|" + topics.tasks() + "|0|" + n + "|1||";
          p.set(layout.defaultPlace(f.prefix(), job, "item-" + n).key(), marker);
        }
        p.sync();
      }

      Path dir = Files.createTempDirectory("itemfleet-replay-scale-");
      String summary =
          FAILED
              + POISON
              + " unresolved failures; 270000 to replay, 30000 done already (Redis), "
              + POISON
              + " poison";
      Path dryLog = dir.resolve("dry.log");
      assertThat(exit(run(f, dryLog, job, "--dry-run"), dryLog))
          .as(Files.readString(dryLog))
          .isZero();
      assertThat(Files.readString(dryLog))
          .contains(summary)
          .contains(
              "dry run: nothing sent; 270000 items would be replayed and 30000 rows resolved");
      assertThat(count(ds, "replayed_at is not null or resolved_at is not null")).isZero();

      // One group of a big job: its rows, not the job's (items 1 to 1,000; every tenth done).
      Path groupLog = dir.resolve("group.log");
      assertThat(exit(run(f, groupLog, job, "--dry-run", "--fingerprint", "fp-small"), groupLog))
          .as(Files.readString(groupLog))
          .isZero();
      assertThat(Files.readString(groupLog))
          .contains("1000 unresolved failures; 900 to replay, 100 done already (Redis), 0 poison");

      // A row recorded before a name rule was tightened is counted, and never stops the rest.
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "update fleet_failures set type = 'bad\uFFFDtype' where job = '"
                + job
                + "' and item_key = 'item-3'");
      }

      // SIGINT part-way: the replay stops after a page and publishes the manifests of what it
      // sent, so the job's total counts every message it sent.
      Path stopLog = dir.resolve("stop.log");
      Process stopped = run(f, stopLog, job);
      long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (!Files.readString(stopLog).contains(" submitted") && stopped.isAlive()) {
        assertThat(System.nanoTime()).as(Files.readString(stopLog)).isLessThan(until);
        Thread.sleep(50);
      }
      assertThat(stopped.isAlive()).as(Files.readString(stopLog)).isTrue();
      new ProcessBuilder("kill", "-INT", Long.toString(stopped.pid())).start().waitFor();
      assertThat(stopped.waitFor(2, TimeUnit.MINUTES)).isTrue();
      String stopText = Files.readString(stopLog);
      assertThat(stopped.exitValue()).as(stopText).isEqualTo(1);
      assertThat(stopText).contains("SIGINT: stopping after").contains("stopped part-way");
      long partial = messages(f, topics.tasks());
      assertThat(partial).as(stopText).isBetween(1L, 269_999L);
      assertThat(manifested(f, topics, job)).as(stopText).isEqualTo(partial);

      // The whole replay: every failure still unresolved, those sent above included; the row of
      // item-3 is not sent (exit 4).
      Path runLog = dir.resolve("run.log");
      assertThat(exit(run(f, runLog, job), runLog)).as(Files.readString(runLog)).isEqualTo(4);
      assertThat(Files.readString(runLog))
          .contains("270000 to replay") // the rows resolved before the SIGINT are left out
          .contains("sent 269999 messages as a new run of the job")
          .contains("1 rows whose names the rules now refuse");
      assertThat(count(ds, "resolved_at is not null")).isEqualTo(30_000);
      assertThat(count(ds, "replayed_at is not null")).isEqualTo(269_999);
      assertThat(messages(f, topics.tasks())).isEqualTo(partial + 269_999);
      assertThat(manifested(f, topics, job)).isEqualTo(partial + 269_999);
    }
  }

  /** The counts of the job's manifests on the jobs topic. */
  private static long manifested(TestFleet f, FleetTopics topics, String job) {
    MessageCodec codec = new MessageCodec();
    long n = 0;
    for (var r : f.readCommitted(topics.jobs())) {
      if (codec.decodeJobEvent(r.value()).orThrow() instanceof JobManifest m
          && m.job().equals(job)) {
        n += m.count();
      }
    }
    return n;
  }

  private static String failures(String job, String outcome, int from, int to) {
    boolean failed = outcome.equals("FAILED");
    return "insert into fleet_failures (job, item_key, item, type, outcome, attempts, retryable,"
        + " error_class, error_message, fingerprint, fingerprint_text, first_failed_at,"
        + " last_failed_at, failure_count, last_payload)"
        + " select '"
        + job
        + "', 'item-' || n, "
        + (failed ? "'item-' || n, case when n % 2 = 0 then 't' else 'u' end" : "null, null")
        + ", '"
        + outcome
        + "', 4, false, 'api.gone', 'item ' || n || ' not found at the upstream service',"
        + " case when n <= 1000 then 'fp-small' else md5('api.gone') || md5('x') end,"
        + " 'item <n> not found at the upstream service', now(),"
        + " now(), 1, "
        + (failed ? "jsonb_build_object('n', n, 'note', repeat('p', 100))" : "null")
        + " from generate_series("
        + from
        + ", "
        + to
        + ") n";
  }

  private static Process run(TestFleet f, Path log, String job, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "replay",
                job,
                "--redis-url",
                f.redisUrl(),
                "--db-url",
                f.jdbcUrl(),
                "--db-user",
                f.dbUser(),
                "--db-password",
                f.dbPassword(),
                "--bootstrap",
                f.kafkaBootstrap(),
                "--topic-prefix",
                f.prefix()));
    args.addAll(List.of(more));
    return FleetProcess.start(SMALL_HEAP, log, args.toArray(String[]::new));
  }

  /** The exit code of a replay, which must end within five minutes. */
  private static int exit(Process p, Path log) throws Exception {
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("fleet replay did not end in 5 minutes: " + Files.readString(log));
    }
    return p.exitValue();
  }

  private static long count(javax.sql.DataSource ds, String where) throws Exception {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet r = st.executeQuery("select count(*) from fleet_failures where " + where)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static long messages(TestFleet f, String topic) throws Exception {
    try (Admin admin = f.admin()) {
      var parts =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
      var specs = new java.util.HashMap<TopicPartition, OffsetSpec>();
      for (var p : parts) specs.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
      long n = 0;
      for (var e : admin.listOffsets(specs).all().get().values()) n += e.offset();
      return n;
    }
  }
}
