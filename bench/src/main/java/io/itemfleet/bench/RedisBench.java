package io.itemfleet.bench;

import io.itemfleet.embedded.EmbeddedRedisServer;
import io.itemfleet.embedded.LocalRedisServer;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.SetParams;

/**
 * The noop drain with idempotency on (every item checked in Redis before it runs and marked done
 * before it is committed) beside the raw consumer on the same broker, and the Redis round trips it
 * took per poll batch. FLEET_REDIS_URL selects a server; else a private one is started.
 */
final class RedisBench {
  private RedisBench() {}

  static void run(String bootstrap, int items, int rounds, ResultTable table) throws Exception {
    String env = System.getenv("FLEET_REDIS_URL");
    // A private Redis that can be emptied between runs: Debian's redis-server 7 when there is one
    // (the buckets layout needs 7), else the embedded 6.2. FLEET_REDIS_URL is never emptied.
    LocalRedisServer local =
        env == null && LocalRedisServer.missing().isEmpty() ? LocalRedisServer.start() : null;
    EmbeddedRedisServer embedded6 =
        env == null && local == null ? EmbeddedRedisServer.start(0) : null;
    AutoCloseable embedded = local != null ? local : embedded6;
    URI redis =
        env != null ? URI.create(env) : local != null ? local.url : URI.create(embedded6.url());
    try {
      boolean buckets = RedisClients.probe(redis).majorVersion() >= 7;
      if (!buckets) {
        System.err.println(
            "redis: the buckets layout needs Redis 7; measuring one key per item only (set"
                + " FLEET_REDIS_URL to a Redis 7 server)");
      }
      // -Dbench.redis.layouts=keys,buckets:64,... picks the layouts; both defaults otherwise.
      List<MarkerLayout> layouts = new ArrayList<>();
      for (String l : System.getProperty("bench.redis.layouts", "keys,buckets").split(",")) {
        MarkerLayout layout = MarkerLayout.parse(l);
        if (!layout.inBuckets() || buckets) layouts.add(layout);
      }
      String yaml = "types:\n  noop: {handler: noop}\n";
      // Unmeasured full-size drains first, until the JIT has settled: on 2 cores it compiles the
      // embedded broker's and the clients' code for minutes (C2 took 30-60% of a core through the
      // third round after one tenth-size drain), and only the worker's side pays for that — the
      // ceiling's loop is tiny. A worker runs for hours; the rounds measure it warm. Each layout
      // drains until one drain's compiling took under 10% of its time (at most 6 drains).
      // -Dbench.redis.warm=N sets the drains' size.
      int warm = Integer.getInteger("bench.redis.warm", items);
      for (MarkerLayout l : layouts) {
        for (int d = 1; d <= 6; d++) {
          long jit = compileMillis();
          long t0 = System.nanoTime();
          FleetTopics w = WorkerBench.backlog(bootstrap, fresh("warm-redis"), warm, "noop", 12);
          drain(bootstrap, w, warm, yaml, redis, l);
          if (embedded != null) flush(redis);
          double share = (compileMillis() - jit) / ((System.nanoTime() - t0) / 1e6);
          System.err.printf(
              "warm-up drain %d (%s): the JIT compiled %.0f%% of the time%n",
              d, name(l), 100 * share);
          if (share < 0.10) break;
        }
      }
      double[] raw = new double[rounds];
      double[] ceiling = new double[rounds];
      double ceilingUsecPerItem = 0;
      double[] ceilingCpuPerItem = {0, 0};
      Map<MarkerLayout, Measured> byLayout = new LinkedHashMap<>();
      for (MarkerLayout l : layouts) byLayout.put(l, new Measured(rounds));
      for (int r = 0; r < rounds; r++) {
        FleetTopics b = WorkerBench.backlog(bootstrap, fresh("raw-r"), items, "noop", 12);
        raw[r] = items / WorkerBench.drainWithRawConsumer(bootstrap, b, items).seconds();
        // Each round leaves a done marker per item (7-day TTL): start the embedded Redis empty.
        if (embedded != null) flush(redis);
        long ceilingUsec = commandUsec(redis);
        Cpu ceilingCpu = Cpu.now(redis);
        ceiling[r] = twoWriteCeiling(redis, items, r);
        ceilingCpuPerItem = ceilingCpu.perItemSince(redis, items);
        ceilingUsecPerItem = (double) (commandUsec(redis) - ceilingUsec) / items;
        if (embedded != null) flush(redis);
        for (MarkerLayout l : layouts) {
          Measured m = byLayout.get(l);
          long before = usedMemory(redis);
          FleetTopics topics =
              WorkerBench.backlog(bootstrap, fresh("redis-" + r), items, "noop", 12);
          long usecBefore = commandUsec(redis);
          Cpu cpu = Cpu.now(redis);
          WorkerBench.Drain ourRun = drain(bootstrap, topics, items, yaml, redis, l);
          m.cpuPerItem = cpu.perItemSince(redis, items);
          m.usecPerItem = (double) (commandUsec(redis) - usecBefore) / items;
          m.bytesPerItem = (usedMemory(redis) - before) / items;
          m.rate[r] = items / ourRun.seconds();
          m.last = ourRun.counters();
          if (embedded != null) flush(redis);
          System.err.printf(
              "noop+Redis (%s) round %d: worker %,.0f/s, raw consumer %,.0f/s, two-write ceiling"
                  + " %,.0f/s; %.2f µs and %d bytes of Redis per item; %,d round trips%n",
              name(l),
              r + 1,
              m.rate[r],
              raw[r],
              ceiling[r],
              m.usecPerItem,
              m.bytesPerItem,
              m.last[0]);
        }
      }
      for (MarkerLayout l : layouts) {
        Measured m = byLayout.get(l);
        double[] ratio = new double[rounds];
        double[] vsCeiling = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratio[r] = m.rate[r] / raw[r];
          vsCeiling[r] = m.rate[r] / ceiling[r];
        }
        table.add(
            String.format(
                "noop handler with idempotency on (Redis, markers: %s), %,d items, 12 partitions,"
                    + " concurrency 256 (items/s from the first record to the last commit, median"
                    + " of %d)",
                name(l), items, rounds),
            ResultTable.rate(ResultTable.median(m.rate)),
            ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
            ResultTable.ratios(ratio),
            "≥ 0.4×");
        table.add(
            "↳ same run, against the two-write ceiling: new keys written as `SET NX PX` then `SET"
                + " PX`, pipelined 1,000 at a time, from the bench itself on the same Redis",
            ResultTable.rate(ResultTable.median(m.rate)),
            ResultTable.rate(ResultTable.median(ceiling)) + " (two-write ceiling)",
            ResultTable.ratios(vsCeiling),
            "≥ 1.0×");
        table.add(
            String.format(
                "↳ Redis per done item (last round): %.2f µs of command time (INFO commandstats;"
                    + " the two writes of the ceiling took %.2f µs), %d bytes of memory"
                    + " (used_memory)",
                m.usecPerItem, ceilingUsecPerItem, m.bytesPerItem),
            m.bytesPerItem + " B",
            "",
            "—",
            "≤ 100 B");
        table.add(
            String.format(
                "↳ CPU per item (last round; Redis's from INFO cpu, this JVM's — broker, worker and"
                    + " bench — from the OS): ours Redis %.2f µs + JVM %.2f µs; the ceiling's Redis"
                    + " %.2f µs + JVM %.2f µs. The machine has %d cores; the ceiling runs no Kafka",
                m.cpuPerItem[0],
                m.cpuPerItem[1],
                ceilingCpuPerItem[0],
                ceilingCpuPerItem[1],
                Runtime.getRuntime().availableProcessors()),
            String.format("%.2f µs", m.cpuPerItem[0] + m.cpuPerItem[1]),
            String.format("%.2f µs (ceiling)", ceilingCpuPerItem[0] + ceilingCpuPerItem[1]),
            "—",
            "—");
        table.add(
            "↳ Redis round trips per poll batch (last round; each round trip is one pipeline)",
            String.format("%.2f", (double) m.last[0] / Math.max(1, m.last[2])),
            String.format(
                "%,d round trips / %,d poll batches; %.0f items per round trip",
                m.last[0], m.last[2], (double) m.last[1] / Math.max(1, m.last[0])),
            "—",
            "≤ 2");
      }
    } finally {
      if (embedded != null) embedded.close();
    }
  }

  /** One layout's figures over the rounds. */
  private static final class Measured {
    final double[] rate;
    double usecPerItem;
    double[] cpuPerItem = {0, 0};
    long bytesPerItem;
    long[] last;

    Measured(int rounds) {
      rate = new double[rounds];
    }
  }

  private static String name(MarkerLayout l) {
    return l.inBuckets() ? "buckets of " + l.bucketsPerJob() + " per job" : "one key per item";
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

  /** CPU used so far by Redis (INFO cpu, its user and system time) and by this JVM (the OS's). */
  private record Cpu(double redisSeconds, long jvmNanos) {
    static Cpu now(URI redis) {
      return new Cpu(redisCpuSeconds(redis), jvmCpuNanos());
    }

    /** Redis's and this JVM's CPU since this snapshot, in µs per item. */
    double[] perItemSince(URI redis, int items) {
      Cpu end = now(redis);
      return new double[] {
        (end.redisSeconds - redisSeconds) * 1e6 / items, (end.jvmNanos - jvmNanos) / 1e3 / items
      };
    }
  }

  private static double redisCpuSeconds(URI redis) {
    try (Jedis j = new Jedis(redis)) {
      double total = 0;
      for (String line : j.info("cpu").split("\r?\n")) {
        if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
          total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      return total;
    }
  }

  /** Milliseconds the JIT has spent compiling in this JVM so far. */
  private static long compileMillis() {
    return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
  }

  private static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
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

  /** The noop drain of a fresh backlog with idempotency on, markers in {@code layout}. */
  static WorkerBench.Drain drain(
      String bootstrap, String prefix, int items, String yaml, URI redis, MarkerLayout layout)
      throws Exception {
    return drain(
        bootstrap,
        WorkerBench.backlog(bootstrap, prefix, items, "noop", 12),
        items,
        yaml,
        redis,
        layout);
  }

  /** The noop drain of {@code topics}' backlog with idempotency on, markers in {@code layout}. */
  private static WorkerBench.Drain drain(
      String bootstrap, FleetTopics topics, int items, String yaml, URI redis, MarkerLayout layout)
      throws Exception {
    AtomicLong first = new AtomicLong(); // timed from the first item's start, like the noop row
    return WorkerBench.drain(
        bootstrap,
        topics,
        items,
        256,
        yaml,
        Map.of("noop", WorkerBench.noopStamping(first)),
        first,
        s -> s.withRedis(Optional.of(redis)).withMarkerLayout(layout));
  }

  private static String fresh(String what) {
    return "bench-" + what + "-" + System.nanoTime();
  }
}
