package io.itemfleet.recorder;

import com.fasterxml.jackson.core.type.TypeReference;
import io.itemfleet.schemas.OutcomeCounts;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** Reads for the CLI: job status, failure groups, failed items. */
public final class LedgerQueries {
  private final DataSource ds;

  public LedgerQueries(DataSource ds) {
    this.ds = ds;
  }

  private static final String JOB_COLUMNS =
      "job, type, expected_total, succeeded, cached, failed, deduplicated, poison, retries,"
          + " handler_millis, labels::text, created_at, updated_at, completed_at,"
          + " (select count(*) from fleet_failures f where f.job = fleet_jobs.job"
          + " and f.resolved_at is not null)";

  public Optional<JobStatus> job(String job) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement("select " + JOB_COLUMNS + " from fleet_jobs where job = ?")) {
      q.setString(1, PgText.of(job));
      try (ResultSet r = q.executeQuery()) {
        return r.next() ? Optional.of(status(r)) : Optional.empty();
      }
    }
  }

  /** The most recently created jobs, newest first. */
  public List<JobStatus> recentJobs(int limit) throws SQLException {
    List<JobStatus> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select " + JOB_COLUMNS + " from fleet_jobs order by created_at desc limit ?")) {
      q.setInt(1, limit);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.add(status(r));
      }
    }
    return out;
  }

  /** A page of jobs, newest first, and how many match in all. */
  public record JobsPage(List<JobStatus> jobs, long matching) {}

  /**
   * Jobs whose name contains {@code nameContains} (any case; empty: all), of {@code type} (empty:
   * any), in {@code state} ("running": not completed, "done": completed, empty: both); newest
   * first, {@code limit} from {@code offset}.
   */
  public JobsPage jobsPage(String nameContains, String type, String state, int limit, int offset)
      throws SQLException {
    StringBuilder where = new StringBuilder(" where true");
    List<String> args = new ArrayList<>();
    if (!nameContains.isEmpty()) {
      where.append(" and job ilike ? escape '\\'");
      args.add(
          "%" + nameContains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
    }
    if (!type.isEmpty()) {
      where.append(" and type = ?");
      args.add(type);
    }
    if (state.equals("running")) where.append(" and completed_at is null");
    if (state.equals("done")) where.append(" and completed_at is not null");
    List<JobStatus> out = new ArrayList<>();
    long matching;
    try (Connection c = ds.getConnection()) {
      try (PreparedStatement q =
          c.prepareStatement(
              "select "
                  + JOB_COLUMNS
                  + " from fleet_jobs"
                  + where
                  + " order by created_at desc, job limit ? offset ?")) {
        int i = 1;
        for (String a : args) q.setString(i++, PgText.of(a));
        q.setInt(i++, limit);
        q.setInt(i, offset);
        try (ResultSet r = q.executeQuery()) {
          while (r.next()) out.add(status(r));
        }
      }
      try (PreparedStatement q = c.prepareStatement("select count(*) from fleet_jobs" + where)) {
        int i = 1;
        for (String a : args) q.setString(i++, PgText.of(a));
        try (ResultSet r = q.executeQuery()) {
          r.next();
          matching = r.getLong(1);
        }
      }
    }
    return new JobsPage(out, matching);
  }

  private static JobStatus status(ResultSet r) throws SQLException {
    long total = r.getLong(3);
    Optional<Long> expected = r.wasNull() ? Optional.empty() : Optional.of(total);
    Map<String, String> labels;
    try {
      labels = Json.MAPPER.readValue(r.getString(11), new TypeReference<Map<String, String>>() {});
    } catch (Exception e) {
      labels = Map.of();
    }
    Timestamp completed = r.getTimestamp(14);
    return new JobStatus(
        r.getString(1),
        r.getString(2),
        expected,
        new OutcomeCounts(r.getLong(4), r.getLong(5), r.getLong(6), r.getLong(7), r.getLong(8)),
        r.getLong(9),
        r.getLong(10),
        labels,
        r.getTimestamp(12).toInstant(),
        r.getTimestamp(13).toInstant(),
        Optional.ofNullable(completed).map(Timestamp::toInstant),
        r.getLong(15));
  }

  /**
   * Unresolved failures of a job grouped by fingerprint, largest group first; the {@value
   * #MAX_GROUPS} largest (a message with a per-item word the fingerprint does not mask makes a
   * group per item, and the page asks every few seconds).
   */
  public List<FailureGroup> failureGroups(String job, int samples) throws SQLException {
    List<FailureGroup> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            // The groups first (counts only), then each group's latest few rows: aggregating every
            // message of a group into an array to take its first held all of a job's failure
            // messages (up to 64 KiB each) in PostgreSQL's memory on every call, and past 1 GB
            // failed with "array size exceeds the maximum allowed".
            c.prepareStatement(
                "with g as (select fingerprint, min(error_class) as error_class,"
                    + " min(fingerprint_text) as fingerprint_text, count(*) as n,"
                    + " min(first_failed_at) as first_at, max(last_failed_at) as last_at"
                    + " from fleet_failures where job = ? and resolved_at is null"
                    + " group by fingerprint order by count(*) desc, fingerprint limit ?)"
                    + " select g.fingerprint, g.error_class, g.fingerprint_text, s.message, g.n,"
                    + " s.items, g.first_at, g.last_at from g cross join lateral ("
                    + " select (array_agg(t.error_message order by t.last_failed_at desc, t.item_key))[1]"
                    + " as message,"
                    + " (array_agg(t.item_key order by t.last_failed_at desc, t.item_key))[1:?] as items"
                    + " from (select f.error_message, f.item_key, f.last_failed_at"
                    + " from fleet_failures f where f.job = ? and f.fingerprint = g.fingerprint"
                    + " and f.resolved_at is null order by f.last_failed_at desc, f.item_key limit ?) t) s"
                    + " order by g.n desc, g.fingerprint")) {
      q.setString(1, PgText.of(job));
      q.setInt(2, MAX_GROUPS);
      q.setInt(3, samples);
      q.setString(4, PgText.of(job));
      q.setInt(5, Math.max(1, samples));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          Array items = r.getArray(6);
          out.add(
              new FailureGroup(
                  r.getString(1),
                  r.getString(2),
                  r.getString(3),
                  r.getString(4),
                  r.getLong(5),
                  Arrays.asList((String[]) items.getArray()),
                  r.getTimestamp(7).toInstant(),
                  r.getTimestamp(8).toInstant()));
        }
      }
    }
    return out;
  }

  /**
   * Unresolved failed items of a job, optionally of one fingerprint, oldest failure first; at most
   * {@code limit} (0 for all), with their stack traces but not their payloads (up to 256 KiB each:
   * a page of them could exhaust the recorder's heap; {@link #payloads} reads them a batch at a
   * time).
   */
  public List<FailedItem> failedItems(String job, Optional<String> fingerprint, int limit)
      throws SQLException {
    return failedItems(job, fingerprint, limit, true, Optional.empty());
  }

  /**
   * A page of a job's (or one fingerprint's) unresolved failed items in item-key order, those after
   * {@code afterKey} ("" for the first page), without payload, message or stack trace: what a
   * replay plans and sends with, a page at a time. Reading every row at once took a few hundred
   * bytes a row and as much again in the driver, so a replay of a big job could exhaust the heap.
   */
  public List<FailedItem> failedItemsBrief(
      String job, Optional<String> fingerprint, String afterKey, int limit) throws SQLException {
    return failedItems(job, fingerprint, limit, false, Optional.of(afterKey));
  }

  /**
   * The stored payloads (JSON text) of these items of a job, by item key; an item without one is
   * absent. Callers pass a batch at a time ({@link #PAYLOAD_BATCH}), so memory follows the batch.
   */
  public java.util.Map<String, String> payloads(String job, List<String> itemKeys)
      throws SQLException {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select item_key, last_payload::text from fleet_failures"
                    + " where job = ? and item_key = any(?) and last_payload is not null")) {
      q.setString(1, PgText.of(job));
      q.setArray(2, c.createArrayOf("text", itemKeys.stream().map(PgText::of).toArray()));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.put(r.getString(1), r.getString(2));
      }
    }
    return out;
  }

  /** Items whose payloads a replay reads at once. */
  public static final int PAYLOAD_BATCH = 500;

  /** Most failure groups listed for a job, the largest first. */
  public static final int MAX_GROUPS = 200;

  /**
   * With {@code afterKey}: those after it, in item-key order (the primary key's); else oldest
   * first.
   */
  private List<FailedItem> failedItems(
      String job,
      Optional<String> fingerprint,
      int limit,
      boolean stacks,
      Optional<String> afterKey)
      throws SQLException {
    String sql =
        "select job, item_key, item, type, outcome, attempts, retryable, error_class, "
            // Brief rows leave out the message too (up to 64 KiB each): a plan needs none of it.
            + (stacks ? "error_message" : "''")
            + ", fingerprint, first_failed_at, last_failed_at, failure_count,"
            + " null::text, replayed_at, "
            + (stacks ? "stack_trace" : "null::text")
            + " from fleet_failures"
            + " where job = ? and resolved_at is null"
            + (fingerprint.isPresent() ? " and fingerprint = ?" : "")
            + (afterKey.isPresent()
                ? " and item_key > ? order by item_key"
                : " order by first_failed_at, item_key")
            + (limit > 0 ? " limit " + limit : "");
    try (Connection c = ds.getConnection()) {
      if (afterKey.isEmpty()) return readFailedItems(c, sql, job, fingerprint, afterKey);
      // A page must come from the primary key in order, a few rows read; with statistics from
      // before a big job's failures arrived, the planner sorted every row of the job instead, for
      // each page: quadratic in the failures. Without sorts, the ordered index scan is the plan.
      // With a fingerprint, the job's rows are read in that order and filtered: a group's pages
      // read the job's failures once per pass, never sorting the group for each page (an index
      // for it would have to be built at start-up on ledgers of millions of rows).
      c.setAutoCommit(false);
      try {
        List<FailedItem> out;
        try (Statement st = c.createStatement()) {
          st.execute("set local enable_sort = off");
          out = readFailedItems(c, sql, job, fingerprint, afterKey);
        }
        c.commit();
        return out;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException again) {
          e.addSuppressed(again);
        }
        throw e;
      } finally {
        try {
          c.setAutoCommit(true);
        } catch (SQLException ignored) {
          // the connection is broken; the pool drops it, and the first error is the one thrown
        }
      }
    }
  }

  private static List<FailedItem> readFailedItems(
      Connection c, String sql, String job, Optional<String> fingerprint, Optional<String> afterKey)
      throws SQLException {
    List<FailedItem> out = new ArrayList<>();
    try (PreparedStatement q = c.prepareStatement(sql)) {
      int i = 1;
      q.setString(i++, PgText.of(job));
      if (fingerprint.isPresent()) q.setString(i++, PgText.of(fingerprint.get()));
      if (afterKey.isPresent()) q.setString(i, PgText.of(afterKey.get()));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          Timestamp replayed = r.getTimestamp(15);
          out.add(
              new FailedItem(
                  r.getString(1),
                  r.getString(2),
                  Optional.ofNullable(r.getString(3)),
                  Optional.ofNullable(r.getString(4)),
                  r.getString(5),
                  r.getInt(6),
                  r.getBoolean(7),
                  r.getString(8),
                  r.getString(9),
                  r.getString(10),
                  r.getTimestamp(11).toInstant(),
                  r.getTimestamp(12).toInstant(),
                  r.getInt(13),
                  Optional.ofNullable(r.getString(14)),
                  Optional.ofNullable(replayed).map(Timestamp::toInstant),
                  Optional.ofNullable(r.getString(16))));
        }
      }
    }
    return out;
  }

  /** Notes that these items were re-enqueued. */
  public void markReplayed(String job, List<String> itemKeys, Instant at) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement u =
            c.prepareStatement(
                "update fleet_failures set replayed_at = ? where job = ? and item_key = any(?)")) {
      u.setTimestamp(1, Timestamp.from(at));
      u.setString(2, PgText.of(job));
      u.setArray(3, c.createArrayOf("text", itemKeys.toArray()));
      u.executeUpdate();
    }
  }

  /** Resolves these items' failure rows: their idempotency records say they are done since. */
  public void markResolved(String job, List<String> itemKeys, Instant at) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement u =
            c.prepareStatement(
                "update fleet_failures set resolved_at = ?"
                    + " where job = ? and item_key = any(?) and resolved_at is null")) {
      u.setTimestamp(1, Timestamp.from(at)); // now
      u.setString(2, PgText.of(job)); // the job
      u.setArray(3, c.createArrayOf("text", itemKeys.toArray())); // the items found done
      u.executeUpdate();
    }
  }

  /** Rows per ledger table, for benchmarks and operators. */
  public Map<String, Long> rowCounts() throws SQLException {
    Map<String, Long> out = new java.util.LinkedHashMap<>();
    try (Connection c = ds.getConnection()) {
      for (String t :
          List.of(
              "fleet_jobs",
              "fleet_job_runs",
              "fleet_job_minutes",
              "fleet_failures",
              "fleet_recorder_offsets")) {
        try (PreparedStatement q = c.prepareStatement("select count(*) from " + t);
            ResultSet r = q.executeQuery()) {
          r.next();
          out.put(t, r.getLong(1));
        }
      }
    }
    return out;
  }
}
