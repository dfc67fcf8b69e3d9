package io.itemfleet.worker;

import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.worker.config.TagLimit;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.ClusterCommandArguments;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.SetParams;

/**
 * The Redis calls the gate makes, queued on a pipeline: the checks before running (the GATE script;
 * CLAIM_BATCH on the fast path), the after-passes (FINISH; MARK_BATCH on the fast path), lease
 * renewals (RENEW), and the connection with its loaded scripts (see {@link RedisScripts}). Owned by
 * the gate thread; nothing here decides anything.
 *
 * <p>On a Redis Cluster every call touches keys of one hash slot: an item's own checks and marker
 * run on its node, its cache entry and limits as separate calls on theirs ({@link ClusterChecks}),
 * and one pipeline per pass sends each node its share.
 */
final class GateCalls {
  private static final Logger log = LoggerFactory.getLogger(GateCalls.class);

  private final URI url;

  /** How long a lease lasts without renewal. */
  private final long leaseMillis;

  /** The lease in ms, as text for script arguments. */
  private final String leaseText;

  /**
   * A system property that keeps the fast path on scripts even on Redis 7+ (for comparing the two
   * in tests and benchmarks).
   */
  static final String LUA_FAST_PATH = "itemfleet.redis.luaFastPath";

  /** The connection to one server, or null while disconnected or on a cluster. */
  private Jedis jedis;

  /** The cluster client, or null while disconnected or on one server. */
  private RedisClusterClient clusterClient;

  /** Syncs a cluster pipeline's nodes in parallel; created at the first cluster connect. */
  private ExecutorService clusterSync;

  /** True when connected to a Redis Cluster; set at each connect. */
  private volatile boolean cluster;

  /** Native SET NX GET / SET PX on the fast path (Redis 7+); set at each connect. */
  private volatile boolean nativeFastPath;

  /** SHA1s of the loaded scripts. */
  private String gateSha;

  private String finishSha;
  private String claimSha;
  private String markSha;
  private String renewSha;
  private String limitsSha;
  private String renewSlotsSha;

  /** Where items' leases and markers live. */
  private final MarkerLayout layout;

  /** TTLs raised on bucket hashes lately (buckets layout). */
  private final BucketTtls bucketTtls = new BucketTtls();

  /**
   * The server's clock (TIME, in ms) read at connect — on a cluster the latest of its nodes', which
   * errs towards holding a lease longer — and {@link System#nanoTime} then: a bucket lease's
   * deadline is that reading moved on by our monotonic clock, so a step of the machine's wall clock
   * does not move it.
   */
  private long serverMillisAtConnect;

  private long nanosAtConnect;

  /** A claim that met a value in a bucket, to be resolved by {@link #resolveConflicts}. */
  static final Object CONFLICT = new Object();

  /** The fleet's topic prefix, shortened in markers of the buckets layout. */
  private final String topicPrefix;

  /** Stops of an item's workers while it ran after which it is FAILED unrun; 0 for never. */
  private final String maxCrashes;

  /** Whether an item one more stop would fail runs here now (the gate's, set before each pass). */
  private boolean suspectRunning;

  GateCalls(URI url, long leaseMillis, MarkerLayout layout, String topicPrefix, int maxCrashes) {
    this.url = url;
    this.maxCrashes = Integer.toString(maxCrashes);
    this.topicPrefix = topicPrefix;
    this.layout = layout;
    this.leaseMillis = leaseMillis;
    this.leaseText = Long.toString(leaseMillis);
  }

  /** Set by the gate thread before a pass: an item one more stop would fail runs here. */
  void suspectRunning(boolean running) {
    suspectRunning = running;
  }

  boolean connected() {
    return jedis != null || clusterClient != null;
  }

  /** The primary's connected replicas (INFO replication); 0 on a cluster. */
  int connectedReplicas() {
    if (jedis == null) return 0;
    for (String line : jedis.info("replication").split("\\r?\\n")) {
      if (line.startsWith("connected_slaves:")) {
        return Integer.parseInt(line.substring("connected_slaves:".length()).trim());
      }
    }
    return 0;
  }

  /** True when connected to a Redis Cluster. */
  boolean cluster() {
    return cluster;
  }

  /**
   * Closes a pipeline after its sync, returning cluster connections to their pools. A cluster
   * pipeline whose node went away can fail to close; its replies say so already.
   */
  static void close(AbstractPipeline p) {
    try {
      p.close();
    } catch (RuntimeException e) {
      log.debug("closing a pipeline: {}", e.toString());
    }
  }

  /**
   * A reply of a synced pipeline. A cluster pipeline leaves the replies of a node it could not
   * reach unset (Jedis logs the node's error); that is a Redis failure like any other, so the pass
   * is kept and tried again.
   */
  static <T> T read(Supplier<T> reply) {
    return RedisClients.read(reply);
  }

  /** A new pipeline on the connection, to be closed after its sync (it holds cluster nodes). */
  AbstractPipeline pipeline() {
    return cluster ? clusterClient.pipelined(clusterSync) : jedis.pipelined();
  }

  /**
   * Fast-path checks of a chunk of items, each taking the item's lease if it is free. The reply per
   * item: "" when the lease is ours now, else the value that was there. On Redis 7 and later, one
   * native {@code SET key lease NX GET PX ms} per item (atomic, as the script is, and about a fifth
   * of Redis's time); before 7.0, where NX and GET cannot be combined, one CLAIM_BATCH script call
   * for the chunk.
   */
  List<Supplier<Object>> claimCalls(AbstractPipeline p, List<Attempt> chunk) {
    List<Supplier<Object>> out = new ArrayList<>(chunk.size());
    if (layout.inBuckets()) {
      // HSETNX of the lease with its deadline; a field already there (a marker, a live or expired
      // lease) is for resolveConflicts to look at. The arguments were encoded with the keys.
      byte[] deadline =
          Long.toString(serverMillisNow() + leaseMillis).getBytes(StandardCharsets.US_ASCII);
      for (Attempt a : chunk) {
        GateKeys.Encoded e = a.keys.encoded();
        byte[] lease = Arrays.copyOf(e.lease(), e.lease().length + deadline.length);
        System.arraycopy(deadline, 0, lease, e.lease().length, deadline.length);
        CommandArguments args =
            arguments(Protocol.Command.HSETNX).key(e.item()).add(e.field()).add(RawBytes.of(lease));
        Response<Long> r = p.executeCommand(new CommandObject<>(args, BuilderFactory.LONG));
        bucketTtls.ensure(p, a.keys.item(), leaseMillis);
        out.add(() -> r.get() == 1L ? "" : CONFLICT);
      }
      return out;
    }
    if (nativeFastPath) {
      SetParams claim = SetParams.setParams().nx().px(leaseMillis);
      for (Attempt a : chunk) {
        Response<String> r = p.setGet(a.keys.item(), a.keys.leaseValue(), claim);
        out.add(() -> r.get() == null ? "" : r.get());
      }
      return out;
    }
    if (cluster) {
      // Redis 6 cluster: a batch script cannot span slots, so one item-only GATE call each, its
      // reply read as a claim's.
      for (Attempt a : chunk) {
        Response<Object> r = gateCall(p, a, true);
        out.add(() -> asClaim((List<?>) r.get()));
      }
      return out;
    }
    List<String> keys = new ArrayList<>(chunk.size());
    List<String> args = new ArrayList<>(chunk.size() + 1);
    for (Attempt a : chunk) {
      keys.add(a.keys.item());
      args.add(a.keys.leaseValue());
    }
    args.add(leaseText);
    Response<Object> batch = p.evalsha(claimSha, keys, args);
    for (int i = 0; i < chunk.size(); i++) {
      int at = i;
      out.add(
          () -> {
            Object v = ((List<?>) batch.get()).get(at);
            if (v instanceof JedisDataException e) throw e; // this item's own error (WRONGTYPE)
            return v;
          });
    }
    return out;
  }

  /**
   * In the buckets layout, the claims that met a value: the item-only GATE call looks at it (a done
   * marker, a lease of this very attempt, one expired, or one live elsewhere), taking the lease
   * where it may. One more round trip, only for such items.
   */
  void resolveConflicts(List<Attempt> checks, List<Supplier<Object>> replies) {
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < checks.size(); i++) {
      if (checks.get(i).keys.fast() && replies.get(i).get() == CONFLICT) at.add(i);
    }
    if (at.isEmpty()) return;
    AbstractPipeline p = pipeline();
    List<Response<Object>> gates = new ArrayList<>(at.size());
    try {
      for (int i : at) gates.add(gateCall(p, checks.get(i), true));
      p.sync();
    } finally {
      close(p);
    }
    for (int j = 0; j < at.size(); j++) {
      Object claim = asClaim((List<?>) read(gates.get(j)::get));
      replies.set(at.get(j), () -> claim);
    }
  }

  /** A GATE reply as a claim's: "" for run, the marker for done, a lease for leased. */
  private static Object asClaim(List<?> reply) {
    String verdict = RedisGate.text(reply.get(0));
    return switch (verdict) {
      case "run" -> reply.size() > 1 ? RedisGate.SUSPECT + RedisGate.text(reply.get(1)) : "";
      case "suspect" -> RedisGate.LEASE + "suspect";
      case "done" -> reply.get(1);
      case "leased" -> RedisGate.LEASE + "elsewhere";
      case "crashed" -> RedisGate.CRASHED + RedisGate.text(reply.get(1));
      default -> throw new IllegalStateException("unexpected claim reply " + reply);
    };
  }

  /** True when the fast path uses native commands (Redis 7+), not scripts. */
  boolean nativeFastPath() {
    return nativeFastPath;
  }

  /**
   * The check of an item off the fast path: the GATE script; with {@code itemOnly} (on a cluster)
   * only its checks on the item's own key, the cache and limits left to {@link ClusterChecks}.
   */
  Response<Object> gateCall(AbstractPipeline p, Attempt a, boolean itemOnly) {
    GateKeys k = a.keys;
    boolean cache = !itemOnly && !k.cache().isEmpty();
    List<TagLimit> limits = itemOnly ? List.of() : k.limits();
    List<String> keys = new ArrayList<>(2 + 2 * limits.size());
    List<String> args = new ArrayList<>(4 + 2 * limits.size());
    keys.add(k.item());
    keys.add(cache ? k.cache() : k.item());
    args.add(k.leaseValue());
    args.add(Long.toString(leaseMillis));
    args.add(k.replay() ? "1" : "0");
    args.add(cache ? "1" : "0");
    SourceRecord src = stored(ItemExecutor.source(a.slot.record));
    args.add(
        RedisGate.DONE
            + (layout.inBuckets() ? DoneMarker.code(Outcome.FAILED) : Outcome.FAILED.name())
            + "|"
            + src.topic()
            + "|"
            + src.partition()
            + "|"
            + src.offset()
            + "|");
    addLimits(k, limits, keys, args);
    args.add(maxCrashes);
    args.add(MarkerLayout.crashesField(k.field()));
    args.add(suspectRunning ? "1" : "0");
    args.add(k.field());
    return p.evalsha(gateSha, keys, args);
  }

  /** On a cluster, the item's limits taken all at once on their node: the LIMITS script. */
  Response<Object> limitsCall(AbstractPipeline p, Attempt a) {
    GateKeys k = a.keys;
    List<String> keys = new ArrayList<>(2 * k.limits().size());
    List<String> args = new ArrayList<>(2 + 2 * k.limits().size());
    args.add(k.leaseValue());
    args.add(leaseText);
    addLimits(k, k.limits(), keys, args);
    return p.evalsha(limitsSha, keys, args);
  }

  /** On a cluster, the read of an item's cache entry on its node. */
  Response<String> cacheCall(AbstractPipeline p, Attempt a) {
    return p.get(a.keys.cache());
  }

  private static void addLimits(
      GateKeys k, List<TagLimit> limits, List<String> keys, List<String> args) {
    for (int i = 0; i < limits.size(); i++) {
      TagLimit l = limits.get(i);
      keys.add(k.slots().get(i));
      keys.add(k.rates().get(i));
      args.add(Integer.toString(l.concurrency().orElse(0)));
      args.add(Long.toString(l.ratePerSecond().isPresent() ? l.emissionMicros() : 0));
    }
  }

  /**
   * The after-pass: the done marker replaces the lease (a plain {@code SET} on the fast path), or,
   * for a retry or a release ({@code r} null or not terminal), the lease is dropped if still ours.
   * Its replies go to {@code out}. On a cluster the FINISH script touches the item's key alone; the
   * checkpoint, cache entry and limit slots are separate commands on their own nodes.
   */
  void finishCall(AbstractPipeline p, Attempt a, ItemResult r, List<Response<?>> out) {
    GateKeys k = a.keys;
    boolean terminal = r != null && r.outcome().isPresent();
    String marker = terminal ? markerText(a, r) : "";
    long ttl = k.settings().idempotencyTtl().toMillis();
    String cacheValue = "";
    if (terminal && !k.cache().isEmpty() && r.outcome().get() == Outcome.SUCCEEDED) {
      cacheValue =
          k.settings().persistResult()
                  && r.value().isPresent()
                  && r.value().get().length() <= RedisGate.MAX_CACHED_RESULT
              ? r.value().get()
              : "1";
    }
    long cacheTtl = k.settings().cacheTtl().toMillis();
    if (cluster) {
      out.add(
          p.evalsha(
              finishSha,
              List.of(k.item()),
              List.of(k.leaseValue(), marker, Long.toString(ttl), "", "0", k.field())));
      if (terminal) out.add(p.del(k.checkpoint()));
      if (!cacheValue.isEmpty()) {
        out.add(p.set(k.cache(), cacheValue, SetParams.setParams().px(cacheTtl)));
      }
      for (String slots : k.slots()) out.add(p.zrem(slots, k.leaseValue()));
      return;
    }
    List<String> keys = new ArrayList<>(3 + k.slots().size());
    keys.add(k.item());
    keys.add(k.cache().isEmpty() ? k.item() : k.cache());
    keys.add(k.checkpoint());
    keys.addAll(k.slots());
    out.add(
        p.evalsha(
            finishSha,
            keys,
            List.of(
                k.leaseValue(),
                marker,
                Long.toString(ttl),
                cacheValue,
                Long.toString(cacheTtl),
                k.field())));
  }

  /**
   * The fast after-passes of items with the same marker TTL: each done marker replaces the item's
   * lease, a plain {@code SET key marker PX ttl}; native commands on Redis 7+, else MARK_BATCH
   * script calls.
   */
  List<Response<?>> markCalls(AbstractPipeline p, List<RedisGate.Finished> list, long ttl) {
    List<Response<?>> out = new ArrayList<>(list.size());
    if (layout.inBuckets()) {
      // One HSET per bucket for all of its markers in this pass: per-command overhead, not the
      // write, is most of Redis's cost of a small command. The arguments are built as they come
      // (no map of fields), in list order: should one field come twice, Redis applies them in
      // order and the later marker stays, as with separate writes.
      Map<String, CommandArguments> byBucket = new HashMap<>();
      for (RedisGate.Finished f : list) {
        GateKeys.Encoded e = f.attempt().keys.encoded();
        byBucket
            .computeIfAbsent(
                f.attempt().keys.item(), b -> arguments(Protocol.Command.HSET).key(e.item()))
            .add(e.field())
            .add(
                RawBytes.of(
                    f.marker() != null ? f.marker() : markerBytes(f.attempt(), f.result())));
      }
      byBucket.forEach(
          (bucket, args) -> {
            out.add(p.executeCommand(new CommandObject<>(args, BuilderFactory.LONG)));
            bucketTtls.ensure(p, bucket, ttl);
          });
      return out;
    }
    if (nativeFastPath || cluster) {
      SetParams px = SetParams.setParams().px(ttl);
      for (RedisGate.Finished f : list) {
        out.add(p.set(f.attempt().keys.item(), markerText(f.attempt(), f.result()), px));
      }
      return out;
    }
    for (int from = 0; from < list.size(); from += RedisGate.SCRIPT_BATCH) {
      List<RedisGate.Finished> chunk =
          list.subList(from, Math.min(list.size(), from + RedisGate.SCRIPT_BATCH));
      List<String> keys = new ArrayList<>(chunk.size());
      List<String> args = new ArrayList<>(chunk.size() + 1);
      for (RedisGate.Finished f : chunk) {
        keys.add(f.attempt().keys.item());
        args.add(markerText(f.attempt(), f.result()));
      }
      args.add(Long.toString(ttl));
      out.add(p.evalsha(markSha, keys, args));
    }
    return out;
  }

  /** An HSET's arguments, of the kind a cluster pipeline routes by their key's slot there. */
  /**
   * A command's arguments, to be given keys and values as {@link RawBytes} (which Jedis sends
   * without copying them); on a cluster the kind that works out the key's slot.
   */
  private CommandArguments arguments(Protocol.Command command) {
    return cluster ? new ClusterCommandArguments(command) : new CommandArguments(command);
  }

  /**
   * At an orderly close, marks the bucket lease of an attempt whose handler still runs as stopping
   * ({@link RedisScripts#STOPPING}); null in the keys layout, where nothing counts stops. Sent as
   * EVAL, not loaded: it runs once per close.
   */
  Response<Object> stoppingCall(AbstractPipeline p, Attempt a) {
    if (!layout.inBuckets()) return null;
    return p.eval(
        RedisScripts.STOPPING,
        List.of(a.keys.item()),
        List.of(a.keys.leaseValue(), a.keys.field()));
  }

  /**
   * Extends an attempt's lease and limit slots; the reply is 0 when the lease was lost. On a
   * cluster the slots are renewed by a call of their own, whose reply goes to {@code out}.
   */
  Response<Object> renewCall(AbstractPipeline p, Attempt a, List<Response<?>> out) {
    GateKeys k = a.keys;
    List<String> args = List.of(k.leaseValue(), leaseText, k.field());
    if (cluster) {
      if (!k.slots().isEmpty()) out.add(p.evalsha(renewSlotsSha, k.slots(), args));
      return p.evalsha(renewSha, List.of(k.item()), args);
    }
    List<String> keys = new ArrayList<>(1 + k.slots().size());
    keys.add(k.item());
    keys.addAll(k.slots());
    return p.evalsha(renewSha, keys, args);
  }

  /** The stored done marker: compact (one-letter outcome, short topic) in the buckets layout. */
  String markerText(Attempt a, ItemResult r) {
    return RedisGate.DONE + marker(a, r).encode(layout.inBuckets());
  }

  /**
   * {@link #markerText} as the bytes a pass sends; any thread may call it (lanes do, as they hand a
   * result to the gate, so that the gate thread need not).
   */
  byte[] markerBytes(Attempt a, ItemResult r) {
    if (layout.inBuckets() && r.failure().isEmpty() && a.slot.record.offset() >= 0) {
      return plainMarkerBytes(a, r);
    }
    return markerText(a, r).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {@link #markerText}'s bytes for a result without a failure (no error class or message), the
   * marker of nearly every item: {@code D|<code>|<topic>|<partition>|<offset>|<attempts>||},
   * written into one array instead of built as a string and encoded.
   */
  private byte[] plainMarkerBytes(Attempt a, ItemResult r) {
    var record = a.slot.record;
    byte[] topic =
        storedTopicBytes.computeIfAbsent(
            record.topic(), t -> storedTopic(t).getBytes(StandardCharsets.UTF_8));
    int attempts = a.decoded == null ? 1 : a.decoded.attempt() + 1;
    int partition = record.partition();
    long offset = record.offset();
    int length =
        4 // D|S|
            + topic.length
            + 1
            + Digits.count(partition)
            + 1
            + Digits.count(offset)
            + 1
            + Digits.count(attempts)
            + 2;
    byte[] out = new byte[length];
    out[0] = 'D';
    out[1] = '|';
    out[2] = (byte) r.outcome().orElseThrow().name().charAt(0); // DoneMarker.code, not a string
    out[3] = '|';
    System.arraycopy(topic, 0, out, 4, topic.length);
    int at = 4 + topic.length;
    out[at++] = '|';
    at += Digits.count(partition);
    Digits.putBefore(out, at, partition);
    out[at++] = '|';
    at += Digits.count(offset);
    Digits.putBefore(out, at, offset);
    out[at++] = '|';
    at += Digits.count(attempts);
    Digits.putBefore(out, at, attempts);
    out[at++] = '|';
    out[at] = '|';
    return out;
  }

  /** {@link #storedTopics}' names as UTF-8 bytes, for {@link #plainMarkerBytes}. */
  private final Map<String, byte[]> storedTopicBytes = new ConcurrentHashMap<>();

  DoneMarker marker(Attempt a, ItemResult r) {
    Optional<FailureEvent> f = r.failure();
    return new DoneMarker(
        r.outcome().orElseThrow(),
        stored(ItemExecutor.source(a.slot.record)),
        f.map(FailureEvent::attempts).orElse(a.decoded == null ? 1 : a.decoded.attempt() + 1),
        f.map(FailureEvent::errorClass).orElse(""),
        f.map(FailureEvent::errorMessage).orElse(""));
  }

  /**
   * A record as markers name it. In the buckets layout a topic of this fleet is written as "~" and
   * what follows the fleet's topic prefix ("~.tasks"), so that a marker stays short enough for
   * Redis's compact hash encoding (values up to 64 bytes by default); the keys layout keeps the
   * whole name, as it always has.
   */
  SourceRecord stored(SourceRecord src) {
    if (!layout.inBuckets()) return src;
    String topic = storedTopics.computeIfAbsent(src.topic(), this::storedTopic);
    return topic == src.topic() ? src : new SourceRecord(topic, src.partition(), src.offset());
  }

  /** A topic's name in markers of the buckets layout, worked out once per topic. */
  private String storedTopic(String topic) {
    return topic.startsWith(topicPrefix) ? "~" + topic.substring(topicPrefix.length()) : topic;
  }

  /** Topic names as markers in buckets write them; a handful of entries, read by any thread. */
  private final Map<String, String> storedTopics = new ConcurrentHashMap<>();

  void connect() {
    RedisClients.Probe probe = RedisClients.probe(url);
    if (probe.cluster()) {
      if (clusterSync == null) {
        clusterSync =
            Executors.newFixedThreadPool(
                3, Thread.ofPlatform().daemon().name("fleet-redis-sync-", 0).factory());
      }
      clusterClient = RedisClients.cluster(url);
    } else {
      // Behind Sentinels, the primary they name now; a node that is no longer primary (a
      // failover is under way) is refused, and the gate tries again with backoff.
      jedis =
          new Jedis(
              RedisClients.sentinel(url)
                  ? RedisClients.currentMaster(url)
                  : RedisClients.nodes(url).get(0),
              RedisClients.config(url));
      if (RedisClients.sentinel(url) && !jedis.info("replication").contains("role:master")) {
        disconnect();
        throw new redis.clients.jedis.exceptions.JedisConnectionException(
            "the node the Sentinels name as primary is not primary yet (failover under way)");
      }
      jedis.ping();
    }
    cluster = probe.cluster();
    nativeFastPath = !Boolean.getBoolean(LUA_FAST_PATH) && probe.majorVersion() >= 7;
    if (layout.inBuckets() && probe.majorVersion() < 7) {
      disconnect();
      throw new io.itemfleet.worker.config.ConfigException(
          "the buckets marker layout needs Redis 7.0 or later (PEXPIRE NX/GT); the one at "
              + RedisGate.redacted(url)
              + " is "
              + probe.majorVersion()
              + ".x: use FLEET_REDIS_MARKERS=keys");
    }
    loadScripts();
    serverMillisAtConnect = serverTimeMillis();
    nanosAtConnect = System.nanoTime();
    bucketTtls.clear();
  }

  /** The server's clock now, as estimated from the reading at connect. */
  private long serverMillisNow() {
    return serverMillisAtConnect + (System.nanoTime() - nanosAtConnect) / 1_000_000;
  }

  /** The server's clock (TIME), in ms; on a cluster, the latest of the nodes that answer. */
  private long serverTimeMillis() {
    if (!cluster) return millis(jedis.time());
    long latest = Long.MIN_VALUE;
    for (var e : clusterClient.getClusterNodes().entrySet()) {
      try (redis.clients.jedis.Connection c = e.getValue().getResource()) {
        latest = Math.max(latest, millis(new Jedis(c).time()));
      } catch (JedisException ex) {
        log.info("cluster node {} did not tell its time: {}", e.getKey(), ex.toString());
      }
    }
    if (latest == Long.MIN_VALUE) throw new JedisException("no cluster node told its time");
    return latest;
  }

  private static long millis(List<String> time) {
    return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
  }

  void loadScripts() {
    gateSha = load(RedisScripts.GATE);
    finishSha = load(RedisScripts.FINISH);
    renewSha = load(RedisScripts.RENEW);
    if (cluster) {
      limitsSha = load(RedisScripts.LIMITS);
      renewSlotsSha = load(RedisScripts.RENEW_SLOTS);
    } else {
      claimSha = load(RedisScripts.CLAIM_BATCH);
      markSha = load(RedisScripts.MARK_BATCH);
    }
  }

  private String load(String script) {
    return cluster ? RedisClients.loadEverywhere(clusterClient, script) : jedis.scriptLoad(script);
  }

  void disconnect() {
    try {
      if (jedis != null) jedis.close();
      if (clusterClient != null) clusterClient.close();
    } catch (RuntimeException e) {
      log.debug("closing the Redis connection: {}", e.toString());
    }
    jedis = null;
    clusterClient = null;
  }

  /** Disconnects and stops the cluster sync threads; at the gate's end. */
  void close() {
    disconnect();
    if (clusterSync != null) clusterSync.shutdownNow();
  }
}
