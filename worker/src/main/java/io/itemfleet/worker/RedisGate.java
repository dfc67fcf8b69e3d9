package io.itemfleet.worker;

import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.ConfigException;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.TagLimit;
import io.itemfleet.worker.config.TaskSettings;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * Idempotency, cache keys and fleet-wide limits in Redis, on one platform thread that owns one
 * connection. Attempts pass the gate before they run and their outcomes pass it again before they
 * can be committed; each pass of the loop is one pipelined round trip for everything queued, so
 * Redis costs round trips per poll batch, not per item.
 *
 * <p>Before: decode (POISON without Redis), then one script per item: a done marker from another
 * record makes it DEDUPLICATED, one from this same record re-emits that outcome, a cache hit makes
 * it CACHED, a live lease held by someone else or a full limit makes it wait (off any lane), and
 * otherwise it takes a lease and runs. After: the done marker (outcome and this record's
 * coordinates) is written and the lease and limit slots released; only then is the result posted to
 * its slot, so no outcome is committed before its marker exists.
 *
 * <p>When Redis cannot be reached, nothing runs unchecked and nothing is dropped: the batch is
 * kept, {@link #healthy()} turns false (the poll loop pauses its partitions) and the gate retries
 * with backoff.
 */
final class RedisGate implements Admission {
  private static final Logger log = LoggerFactory.getLogger(RedisGate.class);

  /** Prefix of a running lease's value under the item's key. */
  static final String LEASE = "L|";

  /** Prefix of a done marker's value under the item's key. */
  static final String DONE = "D|";

  /** A claim's reply (never a stored value) when the item's workers stopped too often. */
  static final String CRASHED = "C|";

  /** A claim's reply (never a stored value): run, alone, an item one more stop would fail. */
  static final String SUSPECT = "S|";

  /** Largest handler result stored with a cache entry. */
  static final int MAX_CACHED_RESULT = 64 * 1024;

  /** At most this many items of one limited tag go to Redis per pass while it is at its limit. */
  static final int MAX_PROBES_PER_TAG = 64;

  /** Where Redis is. */
  private final URI url;

  /** Key prefix, {@code <topic prefix>:}. */
  private final String prefix;

  /** This worker, in lease values. */
  private final String workerId;

  /**
   * This process, in lease values with the assignment epoch: a lease is "ours" only for the very
   * attempt that took it, so a record fetched again (after a rewind, or by a restarted worker with
   * the same ID) waits for the earlier attempt's marker or lease expiry instead of running twice.
   */
  private final String incarnation =
      Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);

  /** This worker and process, in lease values: {@code <worker>|<incarnation>}. */
  private final String owner;

  /** How long a lease lasts without renewal. */
  private final long leaseMillis;

  /** Task types, settings and limits. */
  private final FleetConfig config;

  /** Decodes records and builds results. */
  private final ItemExecutor executor;

  /** Stamps results. */
  private final Clock clock;

  /** Posts finished results; set once before start. */
  private Lanes lanes;

  /** Attempts waiting for their check; added by the poll thread. */
  private final Queue<Attempt> submitted = new ConcurrentLinkedQueue<>();

  /** Results waiting for their done marker; added by lanes and the watchdog. */
  private final Queue<Finished> finishing = new ConcurrentLinkedQueue<>();

  /** Attempts that took a lease and will not run (revoked, drained); their lease is released. */
  private final Queue<Attempt> released = new ConcurrentLinkedQueue<>();

  /** Attempts cleared to run, for the poll thread. */
  private final Queue<Attempt> cleared = new ConcurrentLinkedQueue<>();

  /** Attempts told to wait, for the poll thread. */
  private final Queue<Waiting> waiting = new ConcurrentLinkedQueue<>();

  /** Attempts holding a lease, renewed every third of the lease. */
  private final LeaseTracker leased = new LeaseTracker();

  /** The last job's bucket keys, built once per bucket (poll thread, gate thread). */
  private final BucketKeys bucketKeys = new BucketKeys();

  /** Results handed to {@link #finish} and not yet posted. */
  private final AtomicInteger finishingCount = new AtomicInteger();

  /** Submitted and not yet decided. */
  private final AtomicInteger undecided = new AtomicInteger();

  /** Per limited tag, when this worker may next ask Redis (System.nanoTime), after a refusal. */
  private final Map<String, Long> blockedUntil = new HashMap<>();

  /** Where the gate thread reports an error the process cannot run on after; set by start. */
  private FatalSignal fatal;

  /** Round trips to Redis so far. */
  private final AtomicLong roundTrips = new AtomicLong();

  /** Items checked before running so far. */
  private final AtomicLong checked = new AtomicLong();

  /** False while Redis cannot be reached. */
  private volatile boolean healthy = true;

  /** Cleared by close(). */
  private volatile boolean running = true;

  /** The gate thread, parked while idle. */
  private Thread thread;

  /** Set while the gate thread is parked with nothing to do. */
  private volatile boolean idle;

  /** Where items' leases and markers live. */
  private final MarkerLayout layout;

  /** Replicas that must acknowledge a pass's done markers before its results are posted. */
  private final int replicasAck;

  /** How long a pass waits for them. */
  static final long REPLICAS_ACK_TIMEOUT_MILLIS = 5_000;

  /** The connection and the calls made on it; gate thread only. */
  private final GateCalls calls;

  /** Items per batch script call, so that one call never holds Redis for long. */
  static final int SCRIPT_BATCH = 1000;

  /** Carried over from a failed round trip; gate thread only. */
  private final List<Attempt> carryChecks = new ArrayList<>();

  private final List<Finished> carryFinished = new ArrayList<>();
  private final List<Attempt> carryReleased = new ArrayList<>();

  /**
   * Gate thread only: the attempt running here of an item that one more stop of its worker would
   * fail (--max-crashes), or null. Such items run one at a time, so that the one that stops its
   * workers does not take the others that ran beside it to the limit too.
   */
  private Attempt suspect;

  /** Gate thread only: suspects of this pass that took a lease while another runs, given back. */
  private final List<Attempt> suspectsToGiveBack = new ArrayList<>();

  /**
   * An attempt's result waiting for its done marker.
   *
   * @param marker the marker's bytes for the buckets layout's fast path, encoded by the thread that
   *     handed the result over; null when it is not for that path (the gate checks again)
   */
  record Finished(Attempt attempt, ItemResult result, byte[] marker) {}

  /** An attempt that must wait before asking again. */
  record Waiting(Attempt attempt, long millis) {}

  RedisGate(
      URI url,
      String prefix,
      String workerId,
      Duration lease,
      MarkerLayout layout,
      int replicasAck,
      int maxCrashes,
      FleetConfig config,
      ItemExecutor executor,
      Clock clock) {
    this.url = url;
    this.prefix = prefix + ":";
    this.workerId = workerId;
    this.owner = workerId + "|" + incarnation;
    this.leaseMillis = lease.toMillis();
    this.calls = new GateCalls(url, leaseMillis, layout, prefix, maxCrashes);
    this.layout = layout;
    this.replicasAck = replicasAck;
    this.config = config;
    this.executor = executor;
    this.clock = clock;
  }

  /** Connects (failing fast with the reason when Redis cannot be reached) and starts the thread. */
  @Override
  public void start(Lanes lanes, FatalSignal fatal) {
    this.lanes = lanes;
    this.fatal = fatal;
    try {
      calls.connect();
    } catch (JedisException e) {
      calls.close();
      throw new ConfigException(
          "cannot reach Redis at " + redacted(url) + ": " + rootMessage(e) + " (FLEET_REDIS_URL)");
    }
    if (replicasAck > 0 && calls.cluster()) {
      calls.close();
      throw new ConfigException(
          "FLEET_REDIS_REPLICAS_ACK is not supported on a Redis Cluster (a pass writes to many"
              + " primaries); use 0 there");
    }
    if (replicasAck > 0 && calls.connectedReplicas() < replicasAck) {
      log.warn(
          "FLEET_REDIS_REPLICAS_ACK={} but the Redis primary has {} connected replicas: passes"
              + " that write done markers will fail (and the worker pause) until enough connect",
          replicasAck,
          calls.connectedReplicas());
    }
    thread = Thread.ofPlatform().name("fleet-redis-" + workerId).start(this::loop);
  }

  // ---- called by the poll thread ----

  /**
   * Queues an attempt for its check. The record is decoded and its keys worked out here, on the
   * poll thread, which has time to spare, so that the gate thread (the bottleneck of a Redis-bound
   * fleet) only checks; one that does not decode or key is left for the gate to settle.
   */
  @Override
  public void submit(Attempt a) {
    try {
      if (a.decoded == null) {
        Decoded<TaskMessage> d = executor.decode(a.slot);
        if (!(d instanceof Decoded.Invalid<TaskMessage>)) a.decoded = d.orThrow();
      }
      TaskMessage t = a.decoded;
      if (t != null && a.keys == null && executor.knowsType(t.type())) {
        TaskSettings s = executor.settingsFor(t);
        a.preparedKeys =
            GateKeys.of(
                prefix,
                owner,
                a,
                t,
                s,
                config.limitsFor(s.tags()),
                calls.cluster(),
                layout,
                bucketKeys);
      }
    } catch (RuntimeException e) {
      // Left as it is: the gate decodes or keys it again and settles it, as it always did.
    }
    undecided.incrementAndGet();
    submitted.add(a);
    wake();
  }

  /** Submitted attempts not yet decided. */
  @Override
  public int undecided() {
    return undecided.get();
  }

  /**
   * Cleared attempts go to the lanes (a lane skips and releases one whose partition was revoked
   * meanwhile); those told to wait are held.
   */
  @Override
  public void takeVerdicts(Lanes lanes, Waits waits) {
    for (Attempt a = cleared.poll(); a != null; a = cleared.poll()) {
      lanes.offer(a);
    }
    for (Waiting w = waiting.poll(); w != null; w = waiting.poll()) {
      waits.hold(w.attempt(), w.millis());
    }
  }

  /** False while Redis cannot be reached; the worker pauses and reports unhealthy. */
  @Override
  public boolean healthy() {
    return healthy;
  }

  /** Results waiting for their done marker. */
  @Override
  public int finishing() {
    return finishingCount.get();
  }

  @Override
  public long roundTrips() {
    return roundTrips.get();
  }

  @Override
  public long checked() {
    return checked.get();
  }

  /** Leases found taken or expired while their attempt was still running here. */
  long lostLeases() {
    return leased.lost();
  }

  // ---- called by lanes and the watchdog ----

  /** True when the attempt took a lease and its result must pass {@link #finish}. */
  static boolean gated(Attempt a) {
    return a.keys != null;
  }

  /**
   * An attempt holding a lease posts its result after its done marker is written; one that took
   * none (cached, deduplicated, undecodable) straight into its slot.
   */
  @Override
  public void post(Attempt a, ItemResult result) {
    if (gated(a)) {
      finish(a, result);
    } else {
      lanes.complete(a, result);
    }
  }

  /** Queues a result for its done marker; it is posted once the marker is written. */
  void finish(Attempt a, ItemResult result) {
    finishingCount.incrementAndGet();
    byte[] marker =
        layout.inBuckets() && fastFinish(a, result) ? calls.markerBytes(a, result) : null;
    finishing.add(new Finished(a, result, marker));
    wake();
  }

  /** Releases the lease of an attempt that will not run. */
  @Override
  public void release(Attempt a) {
    if (!gated(a)) return;
    released.add(a); // the gate thread ends its lease in the tracker as it takes it from the queue
    wake();
  }

  private void wake() {
    if (idle) LockSupport.unpark(thread);
  }

  // ---- the gate thread ----

  private void loop() {
    long backoff = 100;
    long redirectWait = 20;
    long nextRenew = System.nanoTime() + leaseMillis * 1_000_000 / 3;
    boolean down = false;
    while (running) {
      try {
        drainInto(submitted, carryChecks);
        drainInto(finishing, carryFinished);
        for (Attempt a = released.poll(); a != null; a = released.poll()) {
          leased.ended(a);
          if (a == suspect) suspect = null;
          carryReleased.add(a);
        }
        boolean renew = System.nanoTime() >= nextRenew && !leased.isEmpty();
        if (carryChecks.isEmpty() && carryFinished.isEmpty() && carryReleased.isEmpty() && !renew) {
          idle = true;
          if (submitted.isEmpty() && finishing.isEmpty() && released.isEmpty()) {
            LockSupport.parkNanos(this, 5_000_000);
          }
          idle = false;
          continue;
        }
        if (!calls.connected()) calls.connect();
        roundTrip(renew);
        if (renew) nextRenew = System.nanoTime() + leaseMillis * 1_000_000 / 3;
        if (down) {
          log.info("Redis at {} is reachable again; resuming", redacted(url));
          down = false;
        }
        healthy = true;
        backoff = 100;
        redirectWait = 20;
      } catch (JedisRedirectionException e) {
        // A cluster's slot moved (MOVED) or is moving (ASK): the pass is kept and sent again on a
        // client that has read the new slot map. Nothing is wrong with Redis; no pause. While a
        // slot migrates (ASK) the new map does not help yet, so the waits grow, up to a second.
        log.info("Redis Cluster slots moved ({}); following them", e.getMessage());
        calls.disconnect();
        LockSupport.parkNanos(this, redirectWait * 1_000_000);
        redirectWait = Math.min(1_000, redirectWait * 2);
        continue;
      } catch (JedisException e) {
        if (!down) {
          log.warn(
              "Redis at {} failed ({}); pausing consumption, retrying with backoff"
                  + " (checks={}, results={})",
              redacted(url),
              rootMessage(e),
              carryChecks.size(),
              carryFinished.size());
        }
        down = true;
        healthy = false;
        calls.disconnect();
        LockSupport.parkNanos(this, backoff * 1_000_000);
        backoff = Math.min(5_000, backoff * 2);
      } catch (RuntimeException | Error e) {
        if (FatalSignal.isFatal(e)) fatal.raise(e);
        log.error("Redis gate failed unexpectedly; retrying", e);
        healthy = false;
        calls.disconnect();
        LockSupport.parkNanos(this, backoff * 1_000_000);
        backoff = Math.min(5_000, backoff * 2);
      }
    }
    releaseAll();
    calls.close();
  }

  /**
   * On close: the leases still held belong to attempts whose results will not be committed here;
   * release those of attempts that never started, so the next owner need not wait for them to
   * expire. A running one keeps its lease until its deadline (its handler may still run); after an
   * orderly stop it is marked as stopping in the buckets layout, so that its next owner does not
   * count a worker's stop against the item (--max-crashes). After a fatal error (out of memory) it
   * is not: that stop counts, as a SIGKILL's does. Best effort.
   */
  private void releaseAll() {
    if (leased.isEmpty()) return;
    try {
      if (!calls.connected()) calls.connect();
      int n = 0;
      AbstractPipeline p = calls.pipeline();
      try {
        List<Response<?>> out = new ArrayList<>();
        for (Attempt a : leased.all()) {
          if (a.deadlineNanos == Long.MAX_VALUE) { // never started; a running one keeps its lease
            calls.finishCall(p, a, null, out);
            n++;
          } else if (fatal == null || !fatal.raised()) {
            Response<Object> r = calls.stoppingCall(p, a);
            if (r != null) out.add(r);
          }
        }
        p.sync();
        for (Response<?> r : out) GateCalls.read(r::get);
      } finally {
        GateCalls.close(p);
      }
      log.info("released {} leases of attempts that never started here", n);
    } catch (RuntimeException e) {
      log.info(
          "could not release {} leases ({}); they expire by themselves",
          leased.size(),
          e.toString());
    }
  }

  private static <T> void drainInto(Queue<T> q, List<T> out) {
    for (T t = q.poll(); t != null; t = q.poll()) out.add(t);
  }

  /** One pipelined round trip: markers and releases, renewals, then checks. */
  private void roundTrip(boolean renew) {
    calls.suspectRunning(suspect != null);
    List<Attempt> checks = prepare(carryChecks);
    carryChecks.clear();
    carryChecks.addAll(checks); // only these are left to decide, should this pass fail
    List<Response<?>> fin = new ArrayList<>(carryFinished.size());
    List<Response<?>> others = new ArrayList<>(); // releases, cluster side calls
    List<Response<Object>> renewals;
    List<Attempt> renewed;
    // Each check's reply, read after the pipeline's sync.
    List<Supplier<Object>> res = new ArrayList<>(checks.size());
    // Checks whose key holds another type of value (WRONGTYPE), by index.
    BitSet wrongType = new BitSet();
    // Renewals that met a key of another type, by index: their leases are lost.
    BitSet lostAtRenewal = new BitSet();
    AbstractPipeline p = calls.pipeline();
    try {
      Map<Long, List<Finished>> marks = new HashMap<>(); // fast after-passes by marker TTL
      long lastTtl = -1; // most results share one TTL: no map lookup (or boxing) for those
      List<Finished> lastMarks = null;
      // Only a pass that renews needs to know which leases end in it: no set per ordinary pass.
      Set<Attempt> ending = renew ? Collections.newSetFromMap(new IdentityHashMap<>()) : Set.of();
      for (Finished f : carryFinished) {
        if (keepsLease(f)) {
          continue; // timed out, handler still running: the lease stays (renewed) until it returns
        }
        if (renew) ending.add(f.attempt());
        if (fastFinish(f.attempt(), f.result())) {
          long ttl = f.attempt().keys.settings().idempotencyTtl().toMillis();
          if (ttl != lastTtl) {
            lastMarks = marks.computeIfAbsent(ttl, t -> new ArrayList<>());
            lastTtl = ttl;
          }
          lastMarks.add(f);
        } else {
          calls.finishCall(p, f.attempt(), f.result(), fin);
        }
      }
      marks.forEach((ttl, list) -> fin.addAll(calls.markCalls(p, list, ttl)));
      for (Attempt a : carryReleased) calls.finishCall(p, a, null, others);
      if (renew) {
        // A handler that ignores its interruption keeps its lease for three lease periods past
        // its deadline, then the lease is given up: its retry may run beside it, which is better
        // than waiting for it forever.
        for (Attempt a : leased.runaways(System.nanoTime(), 3 * leaseMillis * 1_000_000)) {
          log.warn(
              "the handler of item at {} has ignored its interruption for {} ms past its"
                  + " time-out; its lease is given up, so its retry may run while it still runs",
              ItemExecutor.source(a.slot.record),
              (System.nanoTime() - a.deadlineNanos) / 1_000_000);
          calls.finishCall(p, a, null, others);
        }
      }
      // Not the attempts whose marker or release is in this same pipeline: their lease is replaced
      // or dropped just before the renewal would run, and a renewal finding it gone is no loss.
      renewed = renew ? leased.toRenew(ending) : List.of();
      renewals = new ArrayList<>(renewed.size());
      for (Attempt a : renewed) renewals.add(calls.renewCall(p, a, others));
      List<Attempt> fast = new ArrayList<>(checks.size());
      int[] fastAt = new int[checks.size()]; // where each fast check's reply goes in res
      for (Attempt a : checks) {
        if (a.keys.fast()) {
          fastAt[fast.size()] = res.size();
          fast.add(a);
          res.add(null); // filled in below from the batch reply
        } else {
          Response<Object> r = calls.gateCall(p, a, calls.cluster());
          res.add(r::get);
        }
      }
      for (int from = 0; from < fast.size(); from += SCRIPT_BATCH) {
        List<Attempt> chunk = fast.subList(from, Math.min(fast.size(), from + SCRIPT_BATCH));
        List<Supplier<Object>> replies = calls.claimCalls(p, chunk);
        for (int i = 0; i < chunk.size(); i++) res.set(fastAt[from + i], replies.get(i));
      }
      // After the markers, on the same connection: WAIT counts the replicas that have them.
      Response<Long> acked =
          replicasAck > 0 && !fin.isEmpty()
              ? p.waitReplicas(prefix, replicasAck, REPLICAS_ACK_TIMEOUT_MILLIS)
              : null;
      try {
        p.sync();
        if (acked != null && GateCalls.read(acked::get) < replicasAck) {
          throw new JedisException(
              "only "
                  + acked.get()
                  + " of "
                  + replicasAck
                  + " replicas acknowledged the done markers within "
                  + REPLICAS_ACK_TIMEOUT_MILLIS
                  + " ms (FLEET_REDIS_REPLICAS_ACK); their results are held and the markers"
                  + " written again");
        }
        // Surfaces NOSCRIPT and data errors. A marker write, release or renewal that meets a key
        // holding another type of value (someone else's write replaced ours mid-run) cannot be
        // done again with any better luck: it is logged and the pass goes on, never repeated.
        int clobbered = 0;
        JedisDataException example = null;
        for (Response<?> r : fin) {
          try {
            GateCalls.read(r::get);
          } catch (JedisDataException e) {
            if (!wrongType(e)) throw e;
            clobbered++;
            example = e;
          }
        }
        for (Response<?> r : others) {
          try {
            GateCalls.read(r::get);
          } catch (JedisDataException e) {
            if (!wrongType(e)) throw e;
          }
        }
        for (int i = 0; i < renewals.size(); i++) {
          try {
            GateCalls.read(renewals.get(i)::get);
          } catch (JedisDataException e) {
            if (!wrongType(e)) throw e;
            lostAtRenewal.set(i); // the lease is gone: another type of value is there now
          }
        }
        if (clobbered > 0) {
          log.error(
              "{} done-marker writes of this pass met a key holding another type of value than"
                  + " this fleet writes there ({}): someone replaced the fleet's key while its items"
                  + " ran. Their results are committed without the markers, so a later duplicate of"
                  + " those items may run again; remove or rename the key",
              clobbered,
              example.getMessage());
        }
        for (int i = 0; i < res.size(); i++) {
          try {
            GateCalls.read(res.get(i)); // before any decision, so that a failure carries them all
          } catch (JedisDataException e) {
            if (!wrongType(e)) throw e;
            wrongType.set(i); // this item's own key: it alone is settled, below
          }
        }
      } catch (JedisNoScriptException e) {
        calls.loadScripts();
        throw new JedisException(
            "scripts were not loaded (Redis restarted?); loaded them again", e);
      }
    } finally {
      GateCalls.close(p);
    }
    List<Attempt> wrongTyped = new ArrayList<>(wrongType.cardinality());
    for (int i = wrongType.previousSetBit(checks.size());
        i >= 0;
        i = wrongType.previousSetBit(i - 1)) {
      wrongTyped.add(checks.remove(i));
      res.remove(i);
    }
    if (layout.inBuckets()) calls.resolveConflicts(checks, res);
    if (calls.cluster()) ClusterChecks.complete(calls, checks, res);
    for (int i = 0; i < renewed.size(); i++) {
      if (lostAtRenewal.get(i) || Long.valueOf(0).equals(renewals.get(i).get())) {
        leased.lostAtRenewal(renewed.get(i));
      }
    }
    roundTrips.incrementAndGet();
    for (Finished f : carryFinished) {
      if (!keepsLease(f)) leased.ended(f.attempt());
      // A timed-out suspect whose handler still runs keeps its lease, and the slot, until its
      // handler returns and the lane releases it.
      if (f.attempt() == suspect && !keepsLease(f)) suspect = null;
      lanes.complete(f.attempt(), f.result());
      finishingCount.decrementAndGet();
    }
    carryFinished.clear();
    carryReleased.clear();
    carryChecks.clear();
    for (int i = 0; i < checks.size(); i++) {
      Attempt a = checks.get(i);
      try {
        decide(a, res.get(i));
      } catch (RuntimeException e) {
        log.warn(
            "unexpected gate reply for item at {}: {}",
            ItemExecutor.source(a.slot.record),
            e.toString());
        a.keys = null;
        complete(a, executor.crashed(a, e));
      }
    }
    for (Attempt a : wrongTyped) {
      undecided.decrementAndGet();
      failWrongType(a, checkedKeys(a.keys));
    }
    checked.addAndGet(checks.size() + wrongTyped.size());
    giveBackSuspects();
  }

  /**
   * Gives back the leases that suspects took in a pass where another suspect started (their GATE
   * calls could not know of it), so that they wait without a lease: a stop of this worker then does
   * not count against them. They ask again after a second. Best effort: a lease not given back is
   * this very attempt's to take again.
   */
  private void giveBackSuspects() {
    if (suspectsToGiveBack.isEmpty()) return;
    AbstractPipeline p = calls.pipeline();
    try {
      List<Response<?>> out = new ArrayList<>();
      for (Attempt a : suspectsToGiveBack) calls.finishCall(p, a, null, out);
      p.sync();
    } catch (JedisException e) {
      log.debug("could not give back {} leases: {}", suspectsToGiveBack.size(), e.toString());
    } finally {
      GateCalls.close(p);
    }
    for (Attempt a : suspectsToGiveBack) leasedElsewhere(a, askAgainMillis());
    suspectsToGiveBack.clear();
  }

  /**
   * The keys an item's check reads, for the message of a WRONGTYPE reply (Redis does not say which
   * key it was): the item's own key, and off the fast path its cache entry and limit keys.
   */
  static String checkedKeys(GateKeys k) {
    List<String> keys = new ArrayList<>();
    keys.add(k.item());
    if (!k.cache().isEmpty()) keys.add(k.cache());
    keys.addAll(k.limitKeys());
    return named(keys);
  }

  /** "Redis key K", or "one of the Redis keys K1, K2, ..." for a WRONGTYPE message. */
  static String named(List<String> keys) {
    return keys.size() == 1
        ? "Redis key " + keys.get(0)
        : "one of the Redis keys " + String.join(", ", keys);
  }

  /**
   * Settles an item whose check met a key holding another type of value than the fleet writes there
   * (WRONGTYPE): FAILED without running, naming the key, its lease (if it took one) already
   * released. Never retried: the key stays as it is until someone removes it.
   */
  private void failWrongType(Attempt a, String keys) {
    String why =
        keys
            + " holds another type of value than this fleet writes there, so the item could not"
            + " be checked and was not run; remove or rename the key, then replay the job";
    log.warn("item at {} FAILED (redis.wrong_type): {}", ItemExecutor.source(a.slot.record), why);
    a.keys = null;
    complete(a, executor.failedUnrun(a.decoded, "redis.wrong_type", why, a.slot.record));
  }

  /** True for Redis's error about a key holding another type of value than the command needs. */
  static boolean wrongType(JedisDataException e) {
    return String.valueOf(e.getMessage()).contains("WRONGTYPE");
  }

  /**
   * Decodes and keys each attempt; those decided without Redis (POISON, unknown type, a tag at its
   * limit here) are dealt with now. Returns the attempts to check in Redis.
   */
  private List<Attempt> prepare(List<Attempt> in) {
    List<Attempt> out = new ArrayList<>(in.size());
    Map<String, Integer> probes = new HashMap<>();
    long now = System.nanoTime();
    for (Attempt a : in) {
      try {
        prepareOne(a, out, probes, now);
      } catch (RuntimeException e) {
        // A message this gate cannot key (e.g. options its settings reject): settle it as the
        // lanes would, never retry it forever.
        log.warn("cannot check item at {}: {}", ItemExecutor.source(a.slot.record), e.toString());
        undecided.decrementAndGet();
        a.keys = null;
        complete(
            a,
            a.decoded != null && e instanceof IllegalArgumentException iae
                ? executor.badOptions(a.decoded, iae, a.slot.record)
                : executor.crashed(a, e));
      }
    }
    return out;
  }

  private void prepareOne(Attempt a, List<Attempt> out, Map<String, Integer> probes, long now) {
    if (a.keys != null) { // carried over from a failed round trip
      out.add(a);
      return;
    }
    if (a.state.revoked) {
      undecided.decrementAndGet(); // not ours any more; the new owner runs it
      return;
    }
    if (a.decoded == null) {
      Decoded<TaskMessage> d = executor.decode(a.slot);
      if (d instanceof Decoded.Invalid<TaskMessage> invalid) {
        undecided.decrementAndGet();
        complete(a, executor.poison(a.slot.record, invalid.error()));
        return;
      }
      a.decoded = d.orThrow();
    }
    TaskMessage t = a.decoded;
    if (!executor.knowsType(t.type())) {
      undecided.decrementAndGet();
      cleared.add(a); // runs unchecked: the lane reports the unknown type as FAILED
      return;
    }
    GateKeys prepared = a.preparedKeys; // worked out at submit, on the poll thread
    a.preparedKeys = null;
    TaskSettings s = prepared != null ? prepared.settings() : executor.settingsFor(t);
    if (!t.options().isEmpty()) {
      s.checkIdempotencyTtl(); // as fleet.yaml's are at start-up: a marker outlasts the retries
    }
    List<TagLimit> limits = prepared != null ? prepared.limits() : config.limitsFor(s.tags());
    String blocked = null;
    for (TagLimit l : limits) {
      Long until = blockedUntil.get(l.tag());
      int n = probes.merge(l.tag(), 1, Integer::sum);
      if (until != null && (until > now || n > MAX_PROBES_PER_TAG)) blocked = l.tag();
    }
    if (blocked != null) {
      undecided.decrementAndGet();
      long ms = Math.max(1, (blockedUntil.get(blocked) - now) / 1_000_000);
      waiting.add(new Waiting(a, ms + ThreadLocalRandom.current().nextLong(50)));
      return;
    }
    a.keys =
        prepared != null
            ? prepared
            : GateKeys.of(prefix, owner, a, t, s, limits, calls.cluster(), layout, bucketKeys);
    out.add(a);
  }

  /**
   * True for a timed-out attempt whose handler still runs and whose item will be retried: its lease
   * is kept (and renewed) until the handler returns ({@link #release} then drops it), so that the
   * retry waits for it instead of running beside it. A terminal result writes its done marker as
   * usual: nothing runs the item again then.
   */
  private static boolean keepsLease(Finished f) {
    return f.attempt().overdue && f.result().outcome().isEmpty();
  }

  /** True when a done marker alone is to be written: a terminal outcome and nothing else. */
  private static boolean fastFinish(Attempt a, ItemResult r) {
    GateKeys k = a.keys;
    return r.outcome().isPresent() && k.cache().isEmpty() && k.slots().isEmpty() && !a.checkpointed;
  }

  /** Acts on one check's reply. */
  private void decide(Attempt a, Supplier<Object> response) {
    undecided.decrementAndGet();
    if (a.keys.fast()) {
      // The claim: '' means the lease is ours now; else the value that was there.
      String old = text(response.get());
      if (old.isEmpty() || old.equals(a.keys.leaseValue())) {
        run(a); // new, or our own lease on this same record (after a rewind): take it over
      } else if (old.startsWith(SUSPECT)) {
        runSuspect(a, old.substring(SUSPECT.length()));
      } else if (old.startsWith(LEASE)) {
        leasedElsewhere(a, askAgainMillis());
      } else if (old.startsWith(CRASHED)) {
        crashed(a, old.substring(CRASHED.length()));
      } else {
        done(a, old);
      }
      return;
    }
    List<?> reply = (List<?>) response.get();
    String verdict = text(reply.get(0));
    TaskMessage t = a.decoded;
    switch (verdict) {
      case "run" -> {
        if (reply.size() > 1) runSuspect(a, text(reply.get(1)));
        else run(a);
      }
      case "suspect" -> leasedElsewhere(a, Long.parseLong(text(reply.get(1))));
      case "done" -> done(a, text(reply.get(1)));
      case "cached" ->
          finish(
              a,
              ItemResult.terminal(
                  Outcome.CACHED, t.job(), t.type(), false, 0, Optional.empty(), clock.instant()));
      case "leased" -> leasedElsewhere(a, Long.parseLong(text(reply.get(1))));
      case "crashed" -> crashed(a, text(reply.get(1)));
      case ClusterChecks.WRONG_TYPE -> failWrongType(a, text(reply.get(1)));
      case "wait" -> {
        long ms = Long.parseLong(text(reply.get(1)));
        TagLimit l = a.keys.limits().get(Integer.parseInt(text(reply.get(2))) - 1);
        blockedUntil.put(l.tag(), System.nanoTime() + ms * 1_000_000);
        a.keys = null;
        waiting.add(new Waiting(a, ms + ThreadLocalRandom.current().nextLong(20)));
      }
      default -> throw new IllegalStateException("unexpected gate reply " + reply);
    }
  }

  private void run(Attempt a) {
    leased.held(a);
    cleared.add(a);
  }

  /** Runs an item one more stop would fail, unless another such runs here: then it waits. */
  private void runSuspect(Attempt a, String stops) {
    if (suspect != null) {
      suspectsToGiveBack.add(a);
      return;
    }
    suspect = a;
    log.warn(
        "item at {} runs alone among such items: the workers running it stopped {} times while it"
            + " ran, and one more stop fails it (--max-crashes)",
        ItemExecutor.source(a.slot.record),
        stops);
    run(a);
  }

  /**
   * The workers running this item stopped {@code times} times while it ran, the limit: its lease is
   * ours, and the item is FAILED without running, so that it cannot stop this worker too.
   */
  private void crashed(Attempt a, String times) {
    String why =
        "the workers running this item stopped "
            + times
            + " times while it ran (out of memory, a kill), the limit"
            + " (--max-crashes): it is not run again. Items that ran beside it may have been"
            + " counted too; fix the cause, then replay the job's failures";
    log.error("item at {} FAILED (worker.crashed): {}", ItemExecutor.source(a.slot.record), why);
    leased.held(a); // the GATE script took the lease: the FAILED marker replaces it
    finish(a, executor.failedUnrun(a.decoded, "worker.crashed", why, a.slot.record));
  }

  /** How long an item that met another's lease, or a running suspect, waits to ask again. */
  private long askAgainMillis() {
    return Math.min(leaseMillis / 4, 1_000);
  }

  /** Another worker runs this item now, or died holding it: ask again once it may be done. */
  private void leasedElsewhere(Attempt a, long pttl) {
    a.keys = null;
    waiting.add(new Waiting(a, Math.clamp(pttl, 50, 1_000)));
  }

  /** A done marker: the same record re-emits its outcome; any other is DEDUPLICATED. */
  private void done(Attempt a, String value) {
    TaskMessage t = a.decoded;
    Instant now = clock.instant();
    Optional<DoneMarker> m =
        value.startsWith(DONE)
            ? DoneMarker.decode(value.substring(DONE.length()))
            : Optional.empty();
    SourceRecord src = ItemExecutor.source(a.slot.record);
    a.keys = null; // holds no lease
    if (m.isPresent() && (m.get().finishedBy(src) || m.get().finishedBy(calls.stored(src)))) {
      complete(a, reEmit(t, m.get(), src, now));
    } else {
      complete(
          a,
          ItemResult.terminal(
              Outcome.DEDUPLICATED, t.job(), t.type(), false, 0, Optional.empty(), now));
    }
  }

  private ItemResult reEmit(TaskMessage t, DoneMarker m, SourceRecord src, Instant now) {
    if (m.outcome() == Outcome.FAILED) {
      FailureEvent f =
          FailureEvent.failed(
              t, m.attempts(), false, m.errorClass(), m.message(), now, Optional.of(src));
      return ItemResult.terminal(Outcome.FAILED, t.job(), t.type(), false, 0, Optional.of(f), now);
    }
    return ItemResult.terminal(m.outcome(), t.job(), t.type(), false, 0, Optional.empty(), now);
  }

  private void complete(Attempt a, ItemResult r) {
    if (a.finish()) lanes.complete(a, r);
  }

  static String text(Object o) {
    return o instanceof byte[] b
        ? new String(b, java.nio.charset.StandardCharsets.UTF_8)
        : String.valueOf(o);
  }

  /** The URL without its password, for messages. */
  static String redacted(URI u) {
    return io.itemfleet.schemas.Redaction.text(u.toString());
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
  }

  /** Stops the thread after its current round trip. Held results are simply not committed. */
  @Override
  public void close() {
    running = false;
    if (thread != null) {
      LockSupport.unpark(thread);
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
