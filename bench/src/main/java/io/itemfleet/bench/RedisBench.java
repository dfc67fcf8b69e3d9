package io.itemfleet.bench;

import io.itemfleet.embedded.EmbeddedRedisServer;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.worker.FleetConfig;
import io.itemfleet.worker.HandlerRegistry;
import io.itemfleet.worker.TaskSettings;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.WorkerSettings;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;

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
      long[] last = null;
      for (int r = 0; r < rounds; r++) {
        FleetTopics b = WorkerBench.backlog(bootstrap, fresh("raw-r"), items, "noop", 12);
        double tRaw = WorkerBench.drainWithRawConsumer(bootstrap, b, items);
        Result ourRun = drain(bootstrap, fresh("redis-" + r), items, yaml, redis);
        ours[r] = items / ourRun.seconds();
        raw[r] = items / tRaw;
        ratio[r] = ours[r] / raw[r];
        last = ourRun.counters();
        System.err.printf(
            "noop+Redis round %d: worker %,.0f/s, raw consumer %,.0f/s; %,d round trips, %,d items"
                + " checked, %,d poll batches%n",
            r + 1, ours[r], raw[r], last[0], last[1], last[2]);
      }
      table.add(
          String.format(
              "noop handler with idempotency on (Redis), %,d items, 12 partitions, concurrency 256"
                  + " (items/s, median of %d)",
              items, rounds),
          ResultTable.rate(ResultTable.median(ours)),
          ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
          ResultTable.ratio(ResultTable.median(ratio))
              + "× (rounds: "
              + ResultTable.list(ratio)
              + ")",
          "≥ 0.4×");
      table.add(
          "↳ Redis round trips per poll batch (last round; each round trip is one pipeline)",
          String.format("%.2f", (double) last[0] / Math.max(1, last[2])),
          String.format(
              "%,d round trips / %,d poll batches; %.0f items per round trip",
              last[0], last[2], (double) last[1] / Math.max(1, last[0])),
          "—",
          "≤ 2");
    } finally {
      if (embedded != null) embedded.close();
    }
  }

  record Result(double seconds, long[] counters) {}

  private static Result drain(String bootstrap, String prefix, int items, String yaml, URI redis)
      throws Exception {
    FleetTopics topics = WorkerBench.backlog(bootstrap, prefix, items, "noop", 12);
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    WorkerSettings settings =
        WorkerSettings.defaults(Map.of("bootstrap.servers", bootstrap), topics, "bench", 256)
            .withRedis(Optional.of(redis));
    long t0 = System.nanoTime();
    try (Worker w =
            Worker.start(
                settings, config, HandlerRegistry.create(config, Map.of()), WorkerMetrics.NONE);
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (WorkerBench.committed(admin, settings.groupId(), topics.tasks()) < items) {
        if (!w.isRunning())
          throw new IllegalStateException("worker stopped: " + w.failure().orElse(null));
        Thread.sleep(5);
      }
      return new Result((System.nanoTime() - t0) / 1e9, w.counters());
    }
  }

  private static String fresh(String what) {
    return "bench-" + what + "-" + System.nanoTime();
  }
}
