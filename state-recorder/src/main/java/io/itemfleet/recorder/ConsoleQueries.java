package io.itemfleet.recorder;

import io.itemfleet.schemas.LatencyHistogram;
import io.itemfleet.schemas.OutcomeCounts;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The console's reads beyond {@link LedgerQueries}: per-minute series of a job and of the fleet
 * (from {@code fleet_job_minutes}), a job's runs (manifests), and failed items with their Kafka
 * coordinates and a size-capped payload for the drill-down.
 */
public final class ConsoleQueries {
  /** Largest payload shown in the drill-down, in characters of its JSON text. */
  public static final int MAX_PAYLOAD_CHARS = 4096;

  private final DataSource ds;

  public ConsoleQueries(DataSource ds) {
    this.ds = ds;
  }

  /** One minute of a job (all its types) or of the fleet. */
  public record Minute(
      Instant minute,
      long succeeded,
      long cached,
      long failed,
      long deduplicated,
      long poison,
      long retries,
      long handlerMillis,
      LatencyHistogram latency) {}

  /** A produce run of a job: its manifest. */
  public record Run(String runId, String type, long count, Instant createdAt) {}

  /** A failed item for the drill-down. */
  public record ItemDetail(
      FailedItem item,
      Optional<String> sourceTopic,
      Optional<Integer> sourcePartition,
      Optional<Long> sourceOffset,
      Optional<String> payload,
      boolean payloadCut) {}

  /** A job's minutes since {@code since}, oldest first, its types summed. */
  public List<Minute> jobMinutes(String job, Instant since) throws SQLException {
    Map<Instant, Minute> out = new LinkedHashMap<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select minute, succeeded, cached, failed, deduplicated, poison, retries,"
                    + " handler_millis, latency from fleet_job_minutes where job = ? and minute >= ?"
                    + " order by minute")) {
      q.setString(1, PgText.of(job));
      q.setTimestamp(2, Timestamp.from(since));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          Minute m = minute(r, true);
          out.merge(m.minute(), m, ConsoleQueries::sum);
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  /**
   * Sums over minutes of every count column, each stopping at the largest bigint as the ledger's
   * own sums do (a sum of bigints is a numeric, which past that would not read as a long).
   */
  private static final String CAPPED_SUMS =
      String.join(
          ", ",
          java.util.stream.Stream.of(
                  "succeeded",
                  "cached",
                  "failed",
                  "deduplicated",
                  "poison",
                  "retries",
                  "handler_millis")
              .map(col -> "least(sum(" + col + "), 9223372036854775807)::bigint")
              .toList());

  /** The fleet's minutes since {@code since}, every job summed, oldest first (no latency). */
  public List<Minute> fleetMinutes(Instant since) throws SQLException {
    List<Minute> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select minute, "
                    + CAPPED_SUMS
                    + " from fleet_job_minutes where minute >= ? group by minute order by minute")) {
      q.setTimestamp(1, Timestamp.from(since));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.add(minute(r, false));
      }
    }
    return out;
  }

  /** Outcomes per job since {@code since}, for the jobs named (the overview's rates). */
  public Map<String, Long> finishedSince(List<String> jobs, Instant since) throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    if (jobs.isEmpty()) return out;
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select job, least(sum(succeeded::numeric + cached + failed + deduplicated"
                    + " + poison), 9223372036854775807)::bigint"
                    + " from fleet_job_minutes where job = any(?) and minute >= ? group by job")) {
      q.setArray(1, c.createArrayOf("text", jobs.toArray()));
      q.setTimestamp(2, Timestamp.from(since));
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.put(r.getString(1), r.getLong(2));
      }
    }
    return out;
  }

  /**
   * Most runs the job view lists. A job produced one item per call of the Python client's {@code
   * produce()} has a run per item: listing them all (the page asks every 5 s) built hundreds of MB
   * per request in the process that writes the ledger.
   */
  public static final int MAX_RUNS = 100;

  /** Most runs {@link #runCount} counts; past it, it answers one more ("more than"). */
  public static final int MAX_RUN_COUNT = 100_000;

  /** A job's latest {@link #MAX_RUNS} produce runs, oldest first. */
  public List<Run> runs(String job) throws SQLException {
    List<Run> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select run_id, type, count, created_at from fleet_job_runs where job = ?"
                    + " order by created_at desc, run_id desc limit ?")) {
      q.setString(1, PgText.of(job));
      q.setInt(2, MAX_RUNS);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          out.add(
              new Run(r.getString(1), r.getString(2), r.getLong(3), r.getTimestamp(4).toInstant()));
        }
      }
    }
    java.util.Collections.reverse(out);
    return out;
  }

  /** How many runs the job has, counted up to {@link #MAX_RUN_COUNT} + 1 ("more than"). */
  public long runCount(String job) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select count(*) from (select 1 from fleet_job_runs where job = ? limit ?) runs")) {
      q.setString(1, PgText.of(job));
      q.setInt(2, MAX_RUN_COUNT + 1);
      try (ResultSet r = q.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /**
   * The unresolved failed items of one group, with coordinates and payloads, at most {@code limit}.
   */
  public List<ItemDetail> items(String job, String fingerprint, int limit) throws SQLException {
    LedgerQueries q = new LedgerQueries(ds);
    List<FailedItem> items = q.failedItems(job, Optional.of(fingerprint), limit);
    /** What the failures table adds to an item: coordinates and the payload's first part. */
    record Extra(
        String topic, Integer partition, Long offset, String payload, Integer payloadLength) {}
    Map<String, Extra> extra = new java.util.HashMap<>();
    try (Connection c = ds.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "select item_key, source_topic, source_partition, source_offset,"
                    + " left(last_payload::text, ?), length(last_payload::text) from fleet_failures"
                    + " where job = ? and item_key = any(?)")) {
      s.setInt(1, MAX_PAYLOAD_CHARS);
      s.setString(2, PgText.of(job));
      s.setArray(3, c.createArrayOf("text", items.stream().map(FailedItem::itemKey).toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          extra.put(
              r.getString(1),
              new Extra(
                  r.getString(2),
                  (Integer) r.getObject(3),
                  r.getObject(4) == null ? null : r.getLong(4),
                  r.getString(5),
                  r.getObject(6) == null ? null : r.getInt(6)));
        }
      }
    }
    List<ItemDetail> out = new ArrayList<>(items.size());
    for (FailedItem f : items) {
      Extra e = extra.getOrDefault(f.itemKey(), new Extra(null, null, null, null, null));
      out.add(
          new ItemDetail(
              f,
              Optional.ofNullable(e.topic()),
              Optional.ofNullable(e.partition()),
              Optional.ofNullable(e.offset()),
              Optional.ofNullable(e.payload()),
              e.payloadLength() != null && e.payloadLength() > MAX_PAYLOAD_CHARS));
    }
    return out;
  }

  private static Minute minute(ResultSet r, boolean withLatency) throws SQLException {
    LatencyHistogram h = LatencyHistogram.empty();
    if (withLatency) {
      Array a = r.getArray(9);
      Long[] counts = (Long[]) a.getArray();
      long[] c = new long[LatencyHistogram.BUCKETS];
      for (int i = 0; i < Math.min(c.length, counts.length); i++) c[i] = counts[i];
      h = LatencyHistogram.of(c);
    }
    return new Minute(
        r.getTimestamp(1).toInstant(),
        r.getLong(2),
        r.getLong(3),
        r.getLong(4),
        r.getLong(5),
        r.getLong(6),
        r.getLong(7),
        r.getLong(8),
        h);
  }

  private static Minute sum(Minute a, Minute b) {
    return new Minute(
        a.minute(),
        OutcomeCounts.add(a.succeeded(), b.succeeded()),
        OutcomeCounts.add(a.cached(), b.cached()),
        OutcomeCounts.add(a.failed(), b.failed()),
        OutcomeCounts.add(a.deduplicated(), b.deduplicated()),
        OutcomeCounts.add(a.poison(), b.poison()),
        OutcomeCounts.add(a.retries(), b.retries()),
        OutcomeCounts.add(a.handlerMillis(), b.handlerMillis()),
        a.latency().plus(b.latency()));
  }

  /**
   * The {@code q} quantile's upper bound in ms from bucket counts (the bound of the bucket it falls
   * in); empty without observations, -1 when it falls in the open last bucket.
   */
  public static Optional<Long> quantileMs(LatencyHistogram h, double q) {
    long total = h.total();
    if (total == 0) return Optional.empty();
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < LatencyHistogram.BUCKETS; i++) {
      seen = OutcomeCounts.add(seen, h.count(i));
      if (seen >= rank) {
        return Optional.of(
            i < LatencyHistogram.BOUNDS_MS.length ? LatencyHistogram.BOUNDS_MS[i] : -1L);
      }
    }
    return Optional.of(-1L);
  }
}
