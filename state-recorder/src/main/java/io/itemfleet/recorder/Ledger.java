package io.itemfleet.recorder;

import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.ItemResolved;
import io.itemfleet.schemas.JobCompleted;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.LatencyHistogram;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.StatsDelta;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;

/**
 * The recorder's writes. {@link #apply} writes one batch (aggregates, failure rows, manifests and
 * the recorder's own offsets) in one transaction, skipping every record at an offset the ledger
 * already holds, so applying a batch twice, or a batch another recorder already applied, changes
 * nothing: exactly once across crashes, retries and rebalances.
 */
public final class Ledger {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Ledger.class);

  /**
   * A manifest's labels as a job keeps them: names of at most {@link #MAX_LABEL_KEY} characters, at
   * most {@link #MAX_LABELS} of them; the rest are dropped, with a warning (the manifest's count
   * always counts).
   */
  private static Map<String, String> bounded(JobManifest m) {
    if (m.labels().size() <= MAX_LABELS
        && m.labels().keySet().stream().allMatch(k -> k.length() <= MAX_LABEL_KEY)) {
      return m.labels();
    }
    Map<String, String> kept = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> e : m.labels().entrySet()) {
      if (kept.size() < MAX_LABELS && e.getKey().length() <= MAX_LABEL_KEY) {
        kept.put(e.getKey(), e.getValue());
      }
    }
    log.warn(
        "manifest {} of job {}: kept {} of its {} labels (at most {}, names of at most {}"
            + " characters)",
        m.runId(),
        m.job(),
        kept.size(),
        m.labels().size(),
        MAX_LABELS,
        MAX_LABEL_KEY);
    return kept;
  }

  /**
   * A run counted before, sent again: the same manifest (a resend) is quietly ignored; one with
   * another count or type is ignored with a warning that says which counts, since the job waits for
   * the first count (a {@code fleet jobs close} run twice with one --run-id and a corrected count,
   * say).
   */
  private static void warnIfDifferent(Connection c, List<JobManifest> run) throws SQLException {
    JobManifest m = run.get(0);
    try (PreparedStatement q =
        c.prepareStatement("select type, count from fleet_job_runs where job = ? and run_id = ?")) {
      q.setString(1, PgText.of(m.job()));
      q.setString(2, PgText.of(m.runId()));
      try (java.sql.ResultSet rs = q.executeQuery()) {
        if (!rs.next()) return;
        for (JobManifest each : run) warnIfDifferent(rs.getString(1), rs.getLong(2), each);
      }
    }
  }

  /**
   * Runs already warned about, with the count and type ignored, so that a client sending one run
   * over and over with a changing count fills the log with one line per count, not per record;
   * bounded.
   */
  private static final Set<String> WARNED =
      java.util.Collections.newSetFromMap(
          java.util.Collections.synchronizedMap(
              new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > 10_000;
                }
              }));

  /** The warning when run {@code m} was counted with {@code count} items of {@code type}. */
  private static void warnIfDifferent(String type, long count, JobManifest m) {
    if (count == m.count() && type.equals(PgText.of(m.type()))) return;
    if (!WARNED.add(m.job() + "\n" + m.runId() + "\n" + m.type() + "\n" + m.count())) return;
    log.warn(
        "job {}: run {} was counted with {} items of type {}; a later manifest of the same run"
            + " with {} items of type {} is ignored (a run counts once, the first time). For"
            + " another batch use another run ID",
        m.job(),
        m.runId(),
        count,
        type,
        m.count(),
        m.type());
  }

  /** Most labels a job keeps; a manifest's labels beyond them are dropped, with a warning. */
  static final int MAX_LABELS = 64;

  /** Longest label name kept. */
  static final int MAX_LABEL_KEY = 128;

  private final DataSource ds;

  public Ledger(DataSource ds) {
    this.ds = ds;
  }

  /** What one {@link #apply} wrote. */
  public record Applied(
      int records,
      int skipped,
      int statsDeltas,
      int failureRows,
      int manifests,
      Set<String> jobs) {}

  /** The offsets this ledger holds for a group, by partition. */
  public Map<TopicPartition, Long> offsets(String group) throws SQLException {
    Map<TopicPartition, Long> out = new HashMap<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "select topic, partition, next_offset from fleet_recorder_offsets where group_id = ?")) {
      q.setString(1, group);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.put(new TopicPartition(r.getString(1), r.getInt(2)), r.getLong(3));
      }
    }
    return out;
  }

  Applied apply(IngestBatch b, String group) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        Applied a = apply(c, b, group);
        c.commit();
        return a;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection is likely gone; the transaction dies with it
        }
        throw e;
      }
    }
  }

  private Applied apply(Connection c, IngestBatch b, String group) throws SQLException {
    Map<TopicPartition, Long> held = lockOffsets(c, group, b.nextOffsets.keySet());
    checkNoGap(b, held);
    int before = b.stats.size() + b.failures.size() + b.manifests.size() + b.resolutions.size();
    List<StatsDelta> stats = fresh(b.stats, held);
    List<FailureEvent> failures = fresh(b.failures, held);
    List<JobManifest> manifests = fresh(b.manifests, held);
    List<ItemResolved> resolutions = fresh(b.resolutions, held);
    int skipped = before - stats.size() - failures.size() - manifests.size() - resolutions.size();
    Instant now = Instant.now();
    Set<String> jobs = new HashSet<>();

    writeManifests(c, manifests, now, jobs);
    writeStats(c, stats, now, jobs);
    int failureRows = writeFailures(c, failures);
    writeResolutions(c, resolutions);
    writeOffsets(c, group, b.nextOffsets);
    if (!jobs.isEmpty()) updateCompletion(c, jobs, now);
    return new Applied(b.records, skipped, stats.size(), failureRows, manifests.size(), jobs);
  }

  /**
   * Replayed items that succeeded: their failure rows are resolved (after this batch's failures).
   */
  private static void writeResolutions(Connection c, List<ItemResolved> resolutions)
      throws SQLException {
    if (resolutions.isEmpty()) return;
    try (PreparedStatement u =
        c.prepareStatement(
            "update fleet_failures set resolved_at = ?"
                + " where job = ? and item_key = ? and resolved_at is null")) {
      for (ItemResolved r : resolutions) {
        u.setTimestamp(1, Timestamp.from(r.resolvedAt())); // when the replayed item succeeded
        u.setString(2, PgText.of(r.job())); // the job
        u.setString(3, PgText.of(r.item())); // the item key of a FAILED row is its item ID
        u.addBatch();
      }
      u.executeBatch();
    }
  }

  /**
   * Refuses a batch fetched from beyond where the ledger stands for a partition: records between
   * the stored next offset and where the fetch started were never applied, so applying this batch
   * would lose them. (Offsets themselves may skip legitimately, over transaction markers and
   * compacted records; the fetch position does not, because the recorder stores its consumer's
   * position, markers passed included.)
   */
  private static void checkNoGap(IngestBatch b, Map<TopicPartition, Long> held) {
    Map<TopicPartition, Long> gaps = new HashMap<>();
    for (var e : b.fetchStart.entrySet()) {
      long stored = held.getOrDefault(e.getKey(), -1L);
      if (stored >= 0 && e.getValue() > stored) gaps.put(e.getKey(), stored);
    }
    if (!gaps.isEmpty()) throw new GapException(gaps, b.fetchStart);
  }

  /** A batch that would skip records the ledger never applied; nothing of it was written. */
  static final class GapException extends RuntimeException {
    /** The ledger's next offset of each partition with a gap: where to read again from. */
    final Map<TopicPartition, Long> storedNext;

    GapException(Map<TopicPartition, Long> storedNext, Map<TopicPartition, Long> fetchStart) {
      super(
          "batch fetched past the ledger (stored next offsets "
              + storedNext
              + ", fetch started at "
              + fetchStart
              + ")");
      this.storedNext = Map.copyOf(storedNext);
    }
  }

  private static <T> List<T> fresh(
      List<IngestBatch.Entry<T>> entries, Map<TopicPartition, Long> held) {
    List<T> out = new ArrayList<>(entries.size());
    for (IngestBatch.Entry<T> e : entries) {
      if (e.offset() >= held.getOrDefault(e.tp(), 0L)) out.add(e.value());
    }
    return out;
  }

  /**
   * Reads and row-locks this group's offsets, so that two recorders never apply the same record.
   */
  private static Map<TopicPartition, Long> lockOffsets(
      Connection c, String group, Set<TopicPartition> tps) throws SQLException {
    // Create missing rows first so that there is a row to lock for every partition.
    try (PreparedStatement ins =
        c.prepareStatement(
            "insert into fleet_recorder_offsets (group_id, topic, partition, next_offset)"
                + " values (?, ?, ?, -1) on conflict do nothing")) { // -1: never applied
      for (TopicPartition tp : tps) {
        ins.setString(1, group);
        ins.setString(2, tp.topic());
        ins.setInt(3, tp.partition());
        ins.addBatch();
      }
      ins.executeBatch();
    }
    Map<TopicPartition, Long> out = new HashMap<>();
    try (PreparedStatement q =
        c.prepareStatement(
            "select topic, partition, next_offset from fleet_recorder_offsets"
                + " where group_id = ? order by topic, partition for update")) {
      q.setString(1, group);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) out.put(new TopicPartition(r.getString(1), r.getInt(2)), r.getLong(3));
      }
    }
    return out;
  }

  private static void writeOffsets(Connection c, String group, Map<TopicPartition, Long> next)
      throws SQLException {
    try (PreparedStatement u =
        c.prepareStatement(
            "update fleet_recorder_offsets set next_offset = greatest(next_offset, ?)"
                + " where group_id = ? and topic = ? and partition = ?")) {
      for (var e : next.entrySet()) {
        u.setLong(1, e.getValue());
        u.setString(2, group);
        u.setString(3, e.getKey().topic());
        u.setInt(4, e.getKey().partition());
        u.addBatch();
      }
      u.executeBatch();
    }
  }

  private static void writeManifests(
      Connection c, List<JobManifest> manifests, Instant now, Set<String> jobs)
      throws SQLException {
    if (manifests.isEmpty()) return;
    // Each run's manifests of this batch, the first first: only it can be counted.
    Map<String, List<JobManifest>> byRun = new LinkedHashMap<>();
    for (JobManifest m : manifests) {
      byRun.computeIfAbsent(m.job() + "\n" + m.runId(), k -> new ArrayList<>(1)).add(m);
    }
    for (List<JobManifest> run : byRun.values()) {
      JobManifest m = run.get(0);
      int inserted;
      try (PreparedStatement ins =
          c.prepareStatement(
              "insert into fleet_job_runs (job, run_id, type, count, created_at)"
                  + " values (?, ?, ?, ?, ?) on conflict do nothing")) {
        ins.setString(1, PgText.of(m.job()));
        ins.setString(2, PgText.of(m.runId()));
        ins.setString(3, PgText.of(m.type()));
        ins.setLong(4, m.count());
        ins.setTimestamp(5, Timestamp.from(m.createdAt()));
        inserted = ins.executeUpdate();
      }
      if (inserted == 0) { // this run was counted before: what it was counted with is kept
        warnIfDifferent(c, run);
        continue;
      }
      for (JobManifest later : run.subList(1, run.size())) {
        warnIfDifferent(PgText.of(m.type()), m.count(), later);
      }
      try (PreparedStatement up =
          c.prepareStatement(
              "insert into fleet_jobs (job, type, expected_total, labels, created_at, updated_at)"
                  + " values (?, ?, ?, cast(? as jsonb), ?, ?)"
                  + " on conflict (job) do update set"
                  // In numeric, capped: no sum of manifests' counts can overflow the bigint.
                  + " expected_total = least(coalesce(fleet_jobs.expected_total, 0)::numeric"
                  + " + excluded.expected_total, 9223372036854775807)::bigint,"
                  // Merged only while the job keeps at most MAX_LABELS: before, hundreds of
                  // manifests with labels of their own grew the value without bound (each one
                  // rewrote it whole) until PostgreSQL's jsonb limit stopped the recorder.
                  + " labels = case when (select count(*) from jsonb_object_keys("
                  + "fleet_jobs.labels || excluded.labels)) <= "
                  + MAX_LABELS
                  + " then fleet_jobs.labels || excluded.labels else fleet_jobs.labels end,"
                  + " created_at = least(fleet_jobs.created_at, excluded.created_at),"
                  + " updated_at = excluded.updated_at")) {
        up.setString(1, PgText.of(m.job()));
        up.setString(2, PgText.of(m.type()));
        up.setLong(3, m.count());
        up.setString(4, PgText.json(Json.object(bounded(m))));
        up.setTimestamp(5, Timestamp.from(m.createdAt()));
        up.setTimestamp(6, Timestamp.from(now));
        up.executeUpdate();
      }
      jobs.add(m.job());
    }
  }

  /** Sums of stats deltas per key. */
  private static final class Sum {
    String type;
    OutcomeCounts counts = OutcomeCounts.ZERO;
    long retries;
    long handlerMillis;
    LatencyHistogram latency = LatencyHistogram.empty();

    void add(StatsDelta d) {
      counts = counts.plus(d.counts()); // sums stop at the largest long, as the SQL ones do
      retries = OutcomeCounts.add(retries, d.retries());
      handlerMillis = OutcomeCounts.add(handlerMillis, d.handlerMillis());
      latency = latency.plus(d.latency());
    }
  }

  private static void writeStats(
      Connection c, List<StatsDelta> stats, Instant now, Set<String> jobs) throws SQLException {
    if (stats.isEmpty()) return;
    Map<List<Object>, Sum> minutes = new LinkedHashMap<>();
    Map<String, Sum> perJob = new LinkedHashMap<>();
    for (StatsDelta d : stats) {
      minutes.computeIfAbsent(List.of(d.job(), d.type(), d.minute()), k -> new Sum()).add(d);
      Sum j = perJob.computeIfAbsent(d.job(), k -> new Sum());
      if (j.type == null) j.type = d.type();
      j.add(d);
    }
    try (PreparedStatement ins =
        c.prepareStatement(
            "insert into fleet_job_minutes (job, type, minute, succeeded, cached, failed,"
                + " deduplicated, poison, retries, handler_millis, latency)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " on conflict (job, minute, type) do update set"
                + " succeeded = fleet_add_counts(fleet_job_minutes.succeeded, excluded.succeeded),"
                + " cached = fleet_add_counts(fleet_job_minutes.cached, excluded.cached),"
                + " failed = fleet_add_counts(fleet_job_minutes.failed, excluded.failed),"
                + " deduplicated = fleet_add_counts(fleet_job_minutes.deduplicated, excluded.deduplicated),"
                + " poison = fleet_add_counts(fleet_job_minutes.poison, excluded.poison),"
                + " retries = fleet_add_counts(fleet_job_minutes.retries, excluded.retries),"
                + " handler_millis = fleet_add_counts(fleet_job_minutes.handler_millis, excluded.handler_millis),"
                + " latency = fleet_add_buckets(fleet_job_minutes.latency, excluded.latency)")) {
      for (var e : minutes.entrySet()) {
        Sum s = e.getValue();
        ins.setString(1, PgText.of((String) e.getKey().get(0)));
        ins.setString(2, PgText.of((String) e.getKey().get(1)));
        ins.setTimestamp(3, Timestamp.from((Instant) e.getKey().get(2)));
        setCounts(ins, 4, s.counts);
        ins.setLong(9, s.retries);
        ins.setLong(10, s.handlerMillis);
        ins.setArray(11, buckets(c, s.latency));
        ins.addBatch();
      }
      ins.executeBatch();
    }
    try (PreparedStatement up =
        c.prepareStatement(
            "insert into fleet_jobs (job, type, created_at, updated_at, succeeded, cached, failed,"
                + " deduplicated, poison, retries, handler_millis)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " on conflict (job) do update set"
                + " succeeded = fleet_add_counts(fleet_jobs.succeeded, excluded.succeeded),"
                + " cached = fleet_add_counts(fleet_jobs.cached, excluded.cached),"
                + " failed = fleet_add_counts(fleet_jobs.failed, excluded.failed),"
                + " deduplicated = fleet_add_counts(fleet_jobs.deduplicated, excluded.deduplicated),"
                + " poison = fleet_add_counts(fleet_jobs.poison, excluded.poison),"
                + " retries = fleet_add_counts(fleet_jobs.retries, excluded.retries),"
                + " handler_millis = fleet_add_counts(fleet_jobs.handler_millis, excluded.handler_millis),"
                + " updated_at = excluded.updated_at")) {
      for (var e : perJob.entrySet()) {
        Sum s = e.getValue();
        up.setString(1, PgText.of(e.getKey()));
        up.setString(2, PgText.of(s.type));
        up.setTimestamp(3, Timestamp.from(now));
        up.setTimestamp(4, Timestamp.from(now));
        setCounts(up, 5, s.counts);
        up.setLong(10, s.retries);
        up.setLong(11, s.handlerMillis);
        up.addBatch();
        jobs.add(e.getKey());
      }
      up.executeBatch();
    }
  }

  private static void setCounts(PreparedStatement p, int at, OutcomeCounts c) throws SQLException {
    p.setLong(at, c.succeeded());
    p.setLong(at + 1, c.cached());
    p.setLong(at + 2, c.failed());
    p.setLong(at + 3, c.deduplicated());
    p.setLong(at + 4, c.poison());
  }

  private static Array buckets(Connection c, LatencyHistogram h) throws SQLException {
    long[] a = h.toArray();
    Long[] boxed = new Long[a.length];
    for (int i = 0; i < a.length; i++) boxed[i] = a[i];
    return c.createArrayOf("bigint", boxed);
  }

  /** The row of a failure event, merged with others for the same key in this batch. */
  private static final class FailureRow {
    final FailureEvent first;
    FailureEvent last;
    int count = 1;

    FailureRow(FailureEvent e) {
      this.first = e;
      this.last = e;
    }
  }

  /** The job a failure is filed under: its own, else "_poison" (as the worker counts it). */
  static String jobOf(FailureEvent e) {
    return e.job().orElse(FailureEvent.UNATTRIBUTED);
  }

  static String itemKey(FailureEvent e) {
    if (e.item().isPresent()) return e.item().get();
    return e.source()
        .map(s -> "poison@" + s.topic() + "/" + s.partition() + "/" + s.offset())
        .orElse("poison@" + e.failedAt().toEpochMilli());
  }

  private static int writeFailures(Connection c, List<FailureEvent> failures) throws SQLException {
    if (failures.isEmpty()) return 0;
    // One row per key per statement: ON CONFLICT cannot touch a row twice in one INSERT.
    Map<List<String>, FailureRow> rows = new LinkedHashMap<>();
    for (FailureEvent e : failures) {
      rows.merge(
          List.of(jobOf(e), itemKey(e)),
          new FailureRow(e),
          (a, b) -> {
            a.count++;
            if (!b.last.failedAt().isBefore(a.last.failedAt())) a.last = b.last;
            return a;
          });
    }
    try (PreparedStatement ins =
        c.prepareStatement(
            "insert into fleet_failures (job, item_key, item, type, outcome, attempts, retryable,"
                + " error_class, error_message, fingerprint, fingerprint_text, first_failed_at,"
                + " last_failed_at, failure_count, last_payload, source_topic, source_partition,"
                + " source_offset, raw, stack_trace)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, cast(? as jsonb), ?, ?, ?, ?,"
                + " ?)"
                + " on conflict (job, item_key) do update set"
                + " type = excluded.type, outcome = excluded.outcome, attempts = excluded.attempts,"
                + " retryable = excluded.retryable, error_class = excluded.error_class,"
                + " error_message = excluded.error_message, fingerprint = excluded.fingerprint,"
                + " fingerprint_text = excluded.fingerprint_text,"
                + " first_failed_at = least(fleet_failures.first_failed_at, excluded.first_failed_at),"
                + " last_failed_at = greatest(fleet_failures.last_failed_at, excluded.last_failed_at),"
                + " failure_count = fleet_failures.failure_count + excluded.failure_count,"
                + " last_payload = excluded.last_payload, source_topic = excluded.source_topic,"
                + " source_partition = excluded.source_partition,"
                + " source_offset = excluded.source_offset, raw = excluded.raw,"
                + " stack_trace = excluded.stack_trace,"
                + " resolved_at = null")) {
      for (var e : rows.entrySet()) {
        FailureRow row = e.getValue();
        FailureEvent f = row.last;
        String normalised = Fingerprint.normalise(f.errorMessage(), f.item().orElse(null));
        ins.setString(1, PgText.of(e.getKey().get(0)));
        ins.setString(2, PgText.of(e.getKey().get(1)));
        ins.setString(3, PgText.of(f.item().orElse(null)));
        ins.setString(4, PgText.of(f.type().orElse(null)));
        ins.setString(5, f.outcome().name());
        ins.setInt(6, f.attempts());
        ins.setBoolean(7, f.retryable());
        ins.setString(8, PgText.of(f.errorClass()));
        ins.setString(9, PgText.of(f.errorMessage()));
        ins.setString(10, PgText.of(Fingerprint.of(f.errorClass(), normalised)));
        ins.setString(11, PgText.of(normalised));
        ins.setTimestamp(12, Timestamp.from(row.first.failedAt()));
        ins.setTimestamp(13, Timestamp.from(f.failedAt()));
        ins.setInt(14, row.count);
        if (f.payload().isNull() || f.payload().isMissingNode()) {
          ins.setNull(15, Types.VARCHAR);
        } else {
          ins.setString(15, PgText.json(f.payload().toString()));
        }
        if (f.source().isPresent()) {
          ins.setString(16, PgText.of(f.source().get().topic()));
          ins.setInt(17, f.source().get().partition());
          ins.setLong(18, f.source().get().offset());
        } else {
          ins.setNull(16, Types.VARCHAR);
          ins.setNull(17, Types.INTEGER);
          ins.setNull(18, Types.BIGINT);
        }
        if (f.poison().isPresent()) {
          ins.setBytes(19, f.poison().get().raw());
        } else {
          ins.setNull(19, Types.BINARY);
        }
        ins.setString(
            20, PgText.of(f.stackTrace().orElse(null))); // the last failure's trace, or null
        ins.addBatch();
      }
      ins.executeBatch();
    }
    return rows.size();
  }

  /** Marks jobs done when their outcomes reach the expected total; reopens ones that grew. */
  private static void updateCompletion(Connection c, Set<String> jobs, Instant now)
      throws SQLException {
    // As the rows store the names (a NUL in an array is refused outright by PostgreSQL).
    Array names = c.createArrayOf("text", jobs.stream().map(PgText::of).toArray());
    try (PreparedStatement done =
        c.prepareStatement(
            "update fleet_jobs set completed_at = ?, completion_published = false"
                + " where job = any(?) and completed_at is null and expected_total is not null"
                + " and succeeded::numeric + cached + failed + deduplicated + poison"
                + " >= expected_total")) {
      done.setTimestamp(1, Timestamp.from(now));
      done.setArray(2, names);
      done.executeUpdate();
    }
    try (PreparedStatement reopen =
        c.prepareStatement(
            "update fleet_jobs set completed_at = null, completion_published = false"
                + " where job = any(?) and completed_at is not null"
                + " and succeeded::numeric + cached + failed + deduplicated + poison"
                + " < expected_total")) {
      reopen.setArray(1, names);
      reopen.executeUpdate();
    }
  }

  /** Jobs completed whose completion event has not been published yet. */
  /**
   * The completions not yet published, asked after every batch: at most 1,000 at a time (the rest
   * on the next pass), found through a partial index (V8) — before, every job row kept for the
   * retention period was read each time.
   */
  static final String UNPUBLISHED_COMPLETIONS =
      "select job, type, expected_total, succeeded, cached, failed, deduplicated, poison,"
          + " retries, completed_at from fleet_jobs"
          + " where completed_at is not null and not completion_published"
          + " order by completed_at limit 1000";

  public List<JobCompleted> unpublishedCompletions() throws SQLException {
    List<JobCompleted> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement q = c.prepareStatement(UNPUBLISHED_COMPLETIONS)) {
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          out.add(
              new JobCompleted(
                  r.getString(1),
                  r.getString(2),
                  r.getLong(3),
                  new OutcomeCounts(
                      r.getLong(4), r.getLong(5), r.getLong(6), r.getLong(7), r.getLong(8)),
                  r.getLong(9),
                  r.getTimestamp(10).toInstant()));
        }
      }
    }
    return out;
  }

  public void markPublished(List<JobCompleted> done) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement u =
            c.prepareStatement(
                "update fleet_jobs set completion_published = true"
                    + " where job = ? and completed_at = ?")) {
      for (JobCompleted j : done) {
        u.setString(1, PgText.of(j.job()));
        u.setTimestamp(2, Timestamp.from(j.completedAt()));
        u.addBatch();
      }
      u.executeBatch();
    }
  }

  /**
   * Deletes failures, minute aggregates and jobs older than {@code cutoff}, {@code batch} rows per
   * statement so that no transaction grows large. A job goes when nothing updated it since the
   * cutoff, whether or not it completed (jobs without a manifest, or whose items stopped arriving,
   * and the {@code _poison} job of unattributed POISON records would otherwise stay for ever); a
   * completed one once its completion event is published. Returns rows deleted.
   */
  public long deleteOlderThan(Instant cutoff, int batch) throws SQLException {
    String[] sweeps = {
      "delete from fleet_failures where ctid in (select ctid from fleet_failures"
          + " where last_failed_at < ? limit "
          + batch
          + ")",
      "delete from fleet_job_minutes where ctid in (select ctid from fleet_job_minutes"
          + " where minute < ? limit "
          + batch
          + ")",
      "delete from fleet_job_runs where ctid in (select r.ctid from fleet_job_runs r"
          + " join fleet_jobs j using (job) where j.updated_at < ?"
          + " and (j.completed_at is null or j.completion_published) limit "
          + batch
          + ")",
      "delete from fleet_jobs where ctid in (select ctid from fleet_jobs"
          + " where updated_at < ? and (completed_at is null or completion_published) limit "
          + batch
          + ")",
    };
    long total = 0;
    try (Connection c = ds.getConnection()) {
      for (String sql : sweeps) {
        try (PreparedStatement d = c.prepareStatement(sql)) {
          d.setTimestamp(1, Timestamp.from(cutoff));
          int n;
          do {
            n = d.executeUpdate();
            total += n;
          } while (n == batch);
        }
      }
    }
    return total;
  }
}
