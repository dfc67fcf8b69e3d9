package io.itemfleet.bench;

import io.itemfleet.embedded.EmbeddedRedisServer;
import io.itemfleet.schemas.FleetTopics;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.SetParams;

/**
 * The noop drain with idempotency on (every item checked in Redis before it runs and marked done
 * before it is committed) beside the raw consumer on the same broker, and the Redis round trips it
 * took per poll batch. FLEET_REDIS_URL selects a server; else one is embedded.
 */
final class RedisBench {
  private RedisBench() {}

  static void run(String bootstrap, int items, int rounds, ResultTable table) throws Exception {
    String env = System.getenv("FLEET_REDIS_URL");
    EmbeddedRedisServer embedded = env == null ? EmbeddedRedisServer.start(0) : null;
    URI redis = URI.create(env == null ? embedded.url() : env);
    try {
      String yaml = "types:\n  noop: {handler: noop}\n";
      int warm = Math.max(10_000, items / 10);
      drain(bootstrap, fresh("warm-redis"), warm, yaml, redis);
      double[] ours = new double[rounds];
      double[] raw = new double[rounds];
      double[] ratio = new double[rounds];
      double[] ceiling = new double[rounds];
      double[] vsCeiling = new double[rounds];
      long[] last = null;
      long bytesPerItem = 0;
      double usecPerItem = 0;
      for (int r = 0; r < rounds; r++) {
        FleetTopics b = WorkerBench.backlog(bootstrap, fresh("raw-r"), items, "noop", 12);
        double tRaw = WorkerBench.drainWithRawConsumer(bootstrap, b, items).seconds();
        // Each round leaves a done marker per item (7-day TTL): start the embedded Redis empty.
        if (embedded != null) flush(redis);
        long before = usedMemory(redis);
        long usecBefore = commandUsec(redis);
        WorkerBench.Drain ourRun = drain(bootstrap, fresh("redis-" + r), items, yaml, redis);
        usecPerItem = (double) (commandUsec(redis) - usecBefore) / items;
        bytesPerItem = (usedMemory(redis) - before) / items;
        ours[r] = items / ourRun.seconds();
        raw[r] = items / tRaw;
        ratio[r] = ours[r] / raw[r];
        if (embedded != null) flush(redis);
        ceiling[r] = twoWriteCeiling(redis, items, r);
        if (embedded != null) flush(redis);
        vsCeiling[r] = ours[r] / ceiling[r];
        last = ourRun.counters();
        System.err.printf(
            "noop+Redis round %d: worker %,.0f/s, raw consumer %,.0f/s; %,d round trips, %,d items"
                + " checked, %,d poll batches%n",
            r + 1, ours[r], raw[r], last[0], last[1], last[2]);
      }
      table.add(
          String.format(
              "noop handler with idempotency on (Redis), %,d items, 12 partitions, concurrency 256"
                  + " (items/s from the first record to the last commit, median of %d)",
              items, rounds),
          ResultTable.rate(ResultTable.median(ours)),
          ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
          ResultTable.ratios(ratio),
          "≥ 0.4×");
      table.add(
          "↳ same run, against the two-write ceiling: new keys written as `SET NX PX` then `SET PX`,"
              + " pipelined 1,000 at a time, from the bench itself on the same Redis",
          ResultTable.rate(ResultTable.median(ours)),
          ResultTable.rate(ResultTable.median(ceiling)) + " (two-write ceiling)",
          ResultTable.ratios(vsCeiling),
          "≥ 1.0×");
      table.add(
          String.format(
              "↳ Redis's own time per item (INFO commandstats, last round): %.2f µs", usecPerItem),
          "",
          "",
          "—",
          "—");
      table.add(
          "↳ Redis round trips per poll batch (last round; each round trip is one pipeline)",
          String.format("%.2f", (double) last[0] / Math.max(1, last[2])),
          String.format(
              "%,d round trips / %,d poll batches; %.0f items per round trip; Redis memory %d"
                  + " bytes per done item",
              last[0], last[2], (double) last[1] / Math.max(1, last[0]), bytesPerItem),
          "—",
          "≤ 2");
    } finally {
      if (embedded != null) embedded.close();
    }
  }

  /**
   * Items/s of the two-write design's floor cost on this Redis: each new key taken with {@code SET
   * NX PX} (a lease-sized value) and then overwritten with {@code SET PX} (a marker-sized value),
   * both pipelined 1,000 at a time.
   */
  private static double twoWriteCeiling(URI redis, int items, int round) {
    String lease = "L|bench-worker|k3j2h1#1|bench-topic.tasks|7|";
    String marker = "D|SUCCEEDED|bench-topic.tasks|7|";
    try (Jedis j = new Jedis(redis)) {
      var nx = SetParams.setParams().nx().px(60_000);
      var px = SetParams.setParams().px(604_800_000);
      long t0 = System.nanoTime();
      for (int from = 0; from < items; from += 1000) {
        var p = j.pipelined();
        int to = Math.min(items, from + 1000);
        for (int i = from; i < to; i++) p.set("ceil:" + round + ":item-" + i, lease + i, nx);
        p.sync();
        p = j.pipelined();
        for (int i = from; i < to; i++) p.set("ceil:" + round + ":item-" + i, marker + i, px);
        p.sync();
      }
      return items / ((System.nanoTime() - t0) / 1e9);
    }
  }

  /** The microseconds Redis spent in commands so far (INFO commandstats, every command). */
  private static long commandUsec(URI redis) {
    try (Jedis j = new Jedis(redis)) {
      long total = 0;
      for (String line : j.info("commandstats").split("\r?\n")) {
        int at = line.indexOf("usec=");
        if (line.startsWith("cmdstat_") && at > 0) {
          int end = line.indexOf(',', at);
          total += Long.parseLong(line.substring(at + 5, end < 0 ? line.length() : end));
        }
      }
      return total;
    }
  }

  private static void flush(URI redis) {
    try (Jedis j = new Jedis(redis)) {
      j.flushAll();
    }
  }

  /** Redis's used_memory in bytes. */
  private static long usedMemory(URI redis) {
    try (Jedis j = new Jedis(redis)) {
      for (String line : j.info("memory").split("\r?\n")) {
        if (line.startsWith("used_memory:")) return Long.parseLong(line.substring(12).trim());
      }
      return 0;
    }
  }

  private static WorkerBench.Drain drain(
      String bootstrap, String prefix, int items, String yaml, URI redis) throws Exception {
    FleetTopics topics = WorkerBench.backlog(bootstrap, prefix, items, "noop", 12);
    AtomicLong first = new AtomicLong(); // timed from the first item's start, like the noop row
    return WorkerBench.drain(
        bootstrap,
        topics,
        items,
        256,
        yaml,
        Map.of("noop", WorkerBench.noopStamping(first)),
        first,
        s -> s.withRedis(Optional.of(redis)));
  }

  private static String fresh(String what) {
    return "bench-" + what + "-" + System.nanoTime();
  }
}
