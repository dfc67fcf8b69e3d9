package io.itemfleet.alerts;

import io.itemfleet.recorder.Fingerprint;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns failure events into alerts, deduplicated per (job, fingerprint): the first failure of a
 * fingerprint alerts at once (POISON records too, one alert per cause, not per record); later ones
 * are counted and summarised by {@link #flush()} (once per window, by the caller). At most {@link
 * #MAX_FIRST_PER_WINDOW} alerts go out at once per window; further new groups wait for the summary.
 * The fingerprint is the recorder's ({@link Fingerprint}), so an alert's fingerprint is the one
 * {@code fleet failures JOB --fingerprint F} lists. Remembers at most {@link #MAX_KEYS}
 * fingerprints (the least recently seen are forgotten first: such a one alerts again as new). One
 * thread only.
 */
public final class AlertDeduplicator {
  /** Most (job, fingerprint) pairs remembered. */
  public static final int MAX_KEYS = 100_000;

  /** Sample items per alert. */
  public static final int SAMPLES = 5;

  /** Longest error message in an alert. */
  public static final int MAX_MESSAGE = 500;

  private record Key(String job, String fingerprint) {}

  /** Failures of one key since its last alert. */
  private static final class Pending {
    final String type;
    final String errorClass;
    String message;
    long count;
    final List<String> samples = new ArrayList<>();
    Instant since;
    Instant until;

    Pending(String type, String errorClass) {
      this.type = type;
      this.errorClass = errorClass;
    }
  }

  /** Every remembered key, least recently seen first; a value holds what is not yet alerted. */
  private final LinkedHashMap<Key, Pending> seen =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Pending> eldest) {
          // Never forget a key with failures still to summarise: they would be lost.
          return size() > MAX_KEYS && eldest.getValue() == null;
        }
      };

  /** Failures counted and not yet summarised. */
  private long pending;

  /**
   * Most alerts sent at once (FIRST or POISON) between two flushes; further new groups are counted
   * into the window's summary instead, so that a burst of distinct failures (a misconfigured
   * producer, a message with per-item words) cannot flood the webhook and bury the real alerts
   * behind its rate limit.
   */
  public static final int MAX_FIRST_PER_WINDOW = 20;

  /** Alerts sent at once since the last flush. */
  private int firstsThisWindow;

  /**
   * Most groups summarised one by one per window. A backlog read after an outage, or messages with
   * per-item words the fingerprint does not mask, make a group per failure; each held its own
   * summary until the window's flush, so memory grew with the failures read in a window (and a
   * restart read the same backlog again). Further groups are counted into one summary ({@link
   * #OVERFLOW_FINGERPRINT}).
   */
  public static final int MAX_PENDING_KEYS = 1_000;

  /** The fingerprint of the summary of the groups over {@link #MAX_PENDING_KEYS} in a window. */
  public static final String OVERFLOW_FINGERPRINT = "(more groups)";

  /** Groups with failures to summarise in this window. */
  private int pendingKeys;

  /** This window's failures of groups over the cap, in one summary; null while there are none. */
  private Pending overflow;

  /** The job of those failures, or null once they came from more than one job. */
  private String overflowJob;

  /** The alerts to send now for {@code e}: none, or a FIRST or POISON alert. */
  public List<Alert> accept(FailureEvent e) {
    String job = e.job().orElse(FailureEvent.UNATTRIBUTED);
    String type = e.type().orElse("?");
    String item = item(e);
    String message = cut(e.errorMessage());
    String fp = Fingerprint.of(e.errorClass(), Fingerprint.normalise(e.errorMessage(), item));
    Instant at = e.failedAt();
    Key key = new Key(job, fp);
    if (!seen.containsKey(key) && firstsThisWindow < MAX_FIRST_PER_WINDOW) {
      seen.put(key, null);
      firstsThisWindow++;
      Alert.Kind kind = e.outcome() == Outcome.POISON ? Alert.Kind.POISON : Alert.Kind.FIRST;
      return List.of(single(kind, e, job, type, fp, item, message));
    }
    // Known, or one new group too many for this window: counted, and in the next summary.
    Pending p = seen.get(key);
    if (p == null && pendingKeys >= MAX_PENDING_KEYS) {
      if (overflow == null) {
        overflow = new Pending(type, "(various)");
        overflow.since = at;
        overflowJob = job;
      } else if (overflowJob != null && !overflowJob.equals(job)) {
        overflowJob = null;
      }
      p = overflow;
    } else if (p == null) {
      p = new Pending(type, e.errorClass());
      p.since = at;
      seen.put(key, p);
      pendingKeys++;
    }
    p.count++;
    pending++;
    p.message = message;
    if (p.until == null || at.isAfter(p.until)) p.until = at;
    if (at.isBefore(p.since)) p.since = at;
    if (p.samples.size() < SAMPLES) p.samples.add(item);
    return List.of();
  }

  /** An alert for one failure, sent at once. */
  private static Alert single(
      Alert.Kind kind,
      FailureEvent e,
      String job,
      String type,
      String fp,
      String item,
      String message) {
    return new Alert(
        kind,
        job,
        type,
        fp,
        e.errorClass(),
        message,
        1,
        List.of(item),
        e.failedAt(),
        e.failedAt(),
        hint(job, fp));
  }

  /** SUMMARY alerts for every key with failures since its last alert; they are then cleared. */
  public List<Alert> flush() {
    List<Alert> out = new ArrayList<>();
    for (Map.Entry<Key, Pending> en : seen.entrySet()) {
      Pending p = en.getValue();
      if (p == null) continue;
      Key k = en.getKey();
      out.add(
          new Alert(
              Alert.Kind.SUMMARY,
              k.job(),
              p.type,
              k.fingerprint(),
              p.errorClass,
              p.message,
              p.count,
              List.copyOf(p.samples),
              p.since,
              p.until,
              hint(k.job(), k.fingerprint())));
    }
    if (overflow != null) {
      String job = overflowJob != null ? overflowJob : "(several jobs)";
      out.add(
          new Alert(
              Alert.Kind.SUMMARY,
              job,
              overflow.type,
              OVERFLOW_FINGERPRINT,
              overflow.errorClass,
              "failures of further groups, over the "
                  + MAX_PENDING_KEYS
                  + " a window lists one by one; last: "
                  + overflow.message,
              overflow.count,
              List.copyOf(overflow.samples),
              overflow.since,
              overflow.until,
              overflowJob != null ? "fleet failures " + quote(job) : "fleet failures JOB"));
    }
    seen.replaceAll((k, v) -> null);
    pending = 0;
    firstsThisWindow = 0;
    pendingKeys = 0;
    overflow = null;
    overflowJob = null;
    return out;
  }

  /** Failures counted and not yet in a SUMMARY. */
  public long pending() {
    return pending;
  }

  /** Keys remembered. */
  public int size() {
    return seen.size();
  }

  private static String item(FailureEvent e) {
    if (e.item().isPresent()) return e.item().get();
    return e.source().map(AlertDeduplicator::coordinates).orElse("?");
  }

  private static String coordinates(SourceRecord s) {
    return s.topic() + "-" + s.partition() + "@" + s.offset();
  }

  private static String cut(String message) {
    return message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE) + "…";
  }

  /** The command that lists a group's items. */
  static String hint(String job, String fingerprint) {
    return "fleet failures " + quote(job) + " --fingerprint " + fingerprint;
  }

  private static String quote(String s) {
    return s.matches("[A-Za-z0-9._:/@+=-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }
}
