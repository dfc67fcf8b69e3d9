package io.itemfleet.recorder;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The ledger's migrations on a ledger that applied the withdrawn version 6. */
@ExtendWith(FleetTestKit.class)
class MigrationsTest {

  /**
   * Version 6 (an index replacing (job, fingerprint)) was on main briefly and withdrawn. A ledger
   * that applied it has version 6 in its history and the other index: the recorder must start on it
   * (Flyway refused a version applied but missing here) and get its original index back.
   */
  @Test
  void aLedgerThatAppliedTheWithdrawnVersion6StillStartsAndGetsItsIndexBack(TestFleet f)
      throws Exception {
    try (var ds = RecorderTest.dataSource(f)) {
      LedgerDatabase.migrate(ds);
      try (var c = ds.getConnection();
          var st = c.createStatement()) {
        // What version 6 did, and its row in the history, as if applied before version 7.
        st.execute("delete from fleet_schema_history where version in ('7', '8')");
        st.execute("drop index fleet_jobs_unpublished");
        st.execute(
            "create index fleet_failures_group_key on fleet_failures (job, fingerprint, item_key)");
        st.execute("drop index fleet_failures_fingerprint");
        st.execute(
            "insert into fleet_schema_history (installed_rank, version, description, type, script,"
                + " checksum, installed_by, execution_time, success) select max(installed_rank) + 1,"
                + " '6', 'failures by group and key', 'SQL', 'V6__failures_by_group_and_key.sql',"
                + " 123, current_user, 1, true from fleet_schema_history");
      }
      assertThat(LedgerDatabase.migrate(ds)).isEqualTo(2); // versions 7 and 8
      try (var c = ds.getConnection();
          var st = c.createStatement();
          ResultSet r =
              st.executeQuery(
                  "select indexname from pg_indexes where tablename = 'fleet_failures'"
                      + " order by indexname")) {
        java.util.List<String> names = new java.util.ArrayList<>();
        while (r.next()) names.add(r.getString(1));
        assertThat(names)
            .contains("fleet_failures_fingerprint")
            .doesNotContain("fleet_failures_group_key");
      }
    }
  }

  /**
   * The question the recorder asks after every batch (completions not yet published) reads no job
   * row it need not: before, with no index for it, it scanned every job kept for the retention
   * period.
   */
  @Test
  void theQuestionAfterEveryBatchDoesNotReadEveryJob(TestFleet f) throws Exception {
    try (var ds = RecorderTest.dataSource(f)) {
      LedgerDatabase.migrate(ds);
      try (var c = ds.getConnection();
          var st = c.createStatement()) {
        st.execute(
            "insert into fleet_jobs (job, type, created_at, updated_at, completed_at,"
                + " completion_published) select 'job-' || g, 't', now(), now(), now(), true"
                + " from generate_series(1, 100000) g");
        st.execute("analyze fleet_jobs");
        StringBuilder plan = new StringBuilder();
        try (ResultSet r = st.executeQuery("explain " + Ledger.UNPUBLISHED_COMPLETIONS)) {
          while (r.next()) plan.append(r.getString(1)).append('\n');
        }
        assertThat(plan.toString()).doesNotContain("Seq Scan on fleet_jobs");
      }
    }
  }
}
