package io.itemfleet.worker;

import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.worker.config.TagLimit;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.SetParams;

/**
 * The Redis calls the gate makes, queued on a pipeline: the checks before running (the GATE script;
 * CLAIM_BATCH on the fast path), the after-passes (FINISH; MARK_BATCH on the fast path), lease
 * renewals (RENEW), and the connection with its loaded scripts (see {@link RedisScripts}). Owned by
 * the gate thread; nothing here decides anything.
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

  /** The connection, or null while disconnected. */
  private Jedis jedis;

  /** Native SET NX GET / SET PX on the fast path (Redis 7+); set at each connect. */
  private volatile boolean nativeFastPath;

  /** SHA1s of the loaded scripts. */
  private String gateSha;

  private String finishSha;
  private String claimSha;
  private String markSha;
  private String renewSha;

  GateCalls(URI url, long leaseMillis) {
    this.url = url;
    this.leaseMillis = leaseMillis;
    this.leaseText = Long.toString(leaseMillis);
  }

  boolean connected() {
    return jedis != null;
  }

  /** A new pipeline on the connection. */
  Pipeline pipeline() {
    return jedis.pipelined();
  }

  /**
   * Fast-path checks of a chunk of items, each taking the item's lease if it is free. The reply per
   * item: "" when the lease is ours now, else the value that was there. On Redis 7 and later, one
   * native {@code SET key lease NX GET PX ms} per item (atomic, as the script is, and about a fifth
   * of Redis's time); before 7.0, where NX and GET cannot be combined, one CLAIM_BATCH script call
   * for the chunk.
   */
  List<java.util.function.Supplier<Object>> claimCalls(Pipeline p, List<Attempt> chunk) {
    List<java.util.function.Supplier<Object>> out = new ArrayList<>(chunk.size());
    if (nativeFastPath) {
      for (Attempt a : chunk) {
        Response<Object> r =
            p.sendCommand(
                Protocol.Command.SET,
                a.keys.item(),
                a.keys.leaseValue(),
                "NX",
                "GET",
                "PX",
                leaseText);
        out.add(() -> r.get() == null ? "" : r.get());
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
      out.add(() -> ((List<?>) batch.get()).get(at));
    }
    return out;
  }

  /** True when the fast path uses native commands (Redis 7+), not scripts. */
  boolean nativeFastPath() {
    return nativeFastPath;
  }

  /** The check of an item off the fast path: the GATE script. */
  Response<Object> gateCall(Pipeline p, Attempt a) {
    GateKeys k = a.keys;
    List<String> keys = new ArrayList<>(2 + 2 * k.limits().size());
    List<String> args = new ArrayList<>(4 + 2 * k.limits().size());
    keys.add(k.item());
    keys.add(k.cache().isEmpty() ? k.item() : k.cache());
    args.add(k.leaseValue());
    args.add(Long.toString(leaseMillis));
    args.add(k.replay() ? "1" : "0");
    args.add(k.cache().isEmpty() ? "0" : "1");
    SourceRecord src = ItemExecutor.source(a.slot.record);
    args.add(
        RedisGate.DONE
            + "FAILED|"
            + src.topic()
            + "|"
            + src.partition()
            + "|"
            + src.offset()
            + "|");
    for (int i = 0; i < k.limits().size(); i++) {
      TagLimit l = k.limits().get(i);
      keys.add(k.slots().get(i));
      keys.add(k.rates().get(i));
      args.add(Integer.toString(l.concurrency().orElse(0)));
      args.add(Long.toString(l.ratePerSecond().isPresent() ? l.emissionMicros() : 0));
    }
    return p.evalsha(gateSha, keys, args);
  }

  /**
   * The after-pass: the done marker replaces the lease (a plain {@code SET} on the fast path), or,
   * for a retry or a release ({@code r} null or not terminal), the lease is dropped if still ours.
   */
  Response<?> finishCall(Pipeline p, Attempt a, ItemResult r) {
    GateKeys k = a.keys;
    boolean terminal = r != null && r.outcome().isPresent();
    String marker = terminal ? RedisGate.DONE + marker(a, r).encode() : "";
    long ttl = k.settings().idempotencyTtl().toMillis();
    List<String> keys = new ArrayList<>(3 + k.slots().size());
    keys.add(k.item());
    keys.add(k.cache().isEmpty() ? k.item() : k.cache());
    keys.add(k.checkpoint());
    keys.addAll(k.slots());
    String cacheValue = "";
    if (terminal && !k.cache().isEmpty() && r.outcome().get() == Outcome.SUCCEEDED) {
      cacheValue =
          k.settings().persistResult()
                  && r.value().isPresent()
                  && r.value().get().length() <= RedisGate.MAX_CACHED_RESULT
              ? r.value().get()
              : "1";
    }
    return p.evalsha(
        finishSha,
        keys,
        List.of(
            k.leaseValue(),
            marker,
            Long.toString(ttl),
            cacheValue,
            Long.toString(k.settings().cacheTtl().toMillis())));
  }

  /**
   * The fast after-passes of items with the same marker TTL: each done marker replaces the item's
   * lease, a plain {@code SET key marker PX ttl}; native commands on Redis 7+, else MARK_BATCH
   * script calls.
   */
  List<Response<?>> markCalls(Pipeline p, List<RedisGate.Finished> list, long ttl) {
    List<Response<?>> out = new ArrayList<>();
    if (nativeFastPath) {
      SetParams px = SetParams.setParams().px(ttl);
      for (RedisGate.Finished f : list) {
        out.add(
            p.set(
                f.attempt().keys.item(),
                RedisGate.DONE + marker(f.attempt(), f.result()).encode(),
                px));
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
        args.add(RedisGate.DONE + marker(f.attempt(), f.result()).encode());
      }
      args.add(Long.toString(ttl));
      out.add(p.evalsha(markSha, keys, args));
    }
    return out;
  }

  Response<Object> renewCall(Pipeline p, Attempt a) {
    GateKeys k = a.keys;
    List<String> keys = new ArrayList<>(1 + k.slots().size());
    keys.add(k.item());
    keys.addAll(k.slots());
    return p.evalsha(renewSha, keys, List.of(k.leaseValue(), Long.toString(leaseMillis)));
  }

  static DoneMarker marker(Attempt a, ItemResult r) {
    Optional<FailureEvent> f = r.failure();
    return new DoneMarker(
        r.outcome().orElseThrow(),
        ItemExecutor.source(a.slot.record),
        f.map(FailureEvent::attempts).orElse(a.decoded == null ? 1 : a.decoded.attempt() + 1),
        f.map(FailureEvent::errorClass).orElse(""),
        f.map(FailureEvent::errorMessage).orElse(""));
  }

  void connect() {
    jedis = new Jedis(url, 5_000);
    jedis.ping();
    nativeFastPath = !Boolean.getBoolean(LUA_FAST_PATH) && majorVersion(jedis.info("server")) >= 7;
    loadScripts();
  }

  /** The server's major version from {@code INFO server}; 0 when it does not say. */
  static int majorVersion(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("redis_version:")) {
        String v = line.substring("redis_version:".length()).trim();
        int dot = v.indexOf('.');
        try {
          return Integer.parseInt(dot < 0 ? v : v.substring(0, dot));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  void loadScripts() {
    gateSha = jedis.scriptLoad(RedisScripts.GATE);
    finishSha = jedis.scriptLoad(RedisScripts.FINISH);
    renewSha = jedis.scriptLoad(RedisScripts.RENEW);
    claimSha = jedis.scriptLoad(RedisScripts.CLAIM_BATCH);
    markSha = jedis.scriptLoad(RedisScripts.MARK_BATCH);
  }

  void disconnect() {
    if (jedis == null) return;
    try {
      jedis.close();
    } catch (RuntimeException e) {
      log.debug("closing the Redis connection: {}", e.toString());
    }
    jedis = null;
  }
}
