package io.itemfleet.worker;

import io.itemfleet.schemas.LatencyHistogram;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.StatsDelta;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Adds item results up into one stats delta per job, type and minute. Used by one thread. */
final class StatsAccumulator {
  private record Key(String job, String type, Instant minute) {}

  private static final Outcome[] OUTCOMES = Outcome.values();

  /** Running totals for one key. */
  private static final class Totals {
    /** Items by outcome (ordinal): counted in place, made an {@link OutcomeCounts} at drain. */
    final long[] outcomes = new long[OUTCOMES.length];

    long retries;
    long handlerMillis;
    final long[] latency = new long[LatencyHistogram.BUCKETS];
  }

  /** Totals by key, since the last {@link #drain()}. */
  private final Map<Key, Totals> totals = new HashMap<>();

  /** The last key's job, type and minute (epoch minutes), and its totals: most items share them. */
  private String lastJob;

  private String lastType;
  private long lastMinute = Long.MIN_VALUE;
  private Totals last;

  void add(ItemResult r) {
    long minute = Math.floorDiv(r.finishedAt().getEpochSecond(), 60);
    Totals t;
    if (last != null
        && minute == lastMinute
        && r.job().equals(lastJob)
        && r.type().equals(lastType)) {
      t = last;
    } else {
      t =
          totals.computeIfAbsent(
              new Key(r.job(), r.type(), r.finishedAt().truncatedTo(ChronoUnit.MINUTES)),
              k -> new Totals());
      last = t;
      lastJob = r.job();
      lastType = r.type();
      lastMinute = minute;
    }
    Optional<Outcome> o = r.outcome(); // no record or lambda per item: this runs for every item
    if (o.isPresent()) t.outcomes[o.get().ordinal()]++;
    if (r.retry().isPresent()) {
      t.retries++;
    }
    if (r.handlerRan()) {
      long ms = r.handlerNanos() / 1_000_000;
      t.handlerMillis += ms;
      t.latency[LatencyHistogram.bucketOf(ms)]++;
    }
  }

  private static OutcomeCounts counts(long[] byOrdinal) {
    OutcomeCounts c = OutcomeCounts.ZERO;
    for (Outcome o : OUTCOMES) {
      if (byOrdinal[o.ordinal()] != 0) c = c.plus(o, byOrdinal[o.ordinal()]);
    }
    return c;
  }

  boolean isEmpty() {
    return totals.isEmpty();
  }

  /** The deltas so far; the accumulator is empty afterwards. */
  List<StatsDelta> drain() {
    List<StatsDelta> out = new ArrayList<>(totals.size());
    totals.forEach(
        (k, t) ->
            out.add(
                new StatsDelta(
                    k.job(),
                    k.type(),
                    k.minute(),
                    counts(t.outcomes),
                    t.retries,
                    t.handlerMillis,
                    LatencyHistogram.of(t.latency))));
    totals.clear();
    last = null;
    return out;
  }
}
