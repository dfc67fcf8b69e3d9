package io.itemfleet.bench;

import io.itemfleet.embedded.LocalRedisCluster;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.worker.MarkerLayout;
import io.itemfleet.worker.RedisClients;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The noop drain with idempotency on against a local Redis Cluster of three masters, beside the raw
 * consumer on the same broker, and how the item keys spread over the masters. On one 2-core machine
 * the three masters, the broker and the worker share the cores: this shows that the cluster path
 * works and spreads keys, not what a cluster of machines would do.
 */
final class RedisClusterBench {
  private RedisClusterBench() {}

  static void run(String bootstrap, int items, int rounds, Path work, ResultTable table)
      throws Exception {
    Optional<String> missing = LocalRedisCluster.missing();
    if (missing.isPresent()) {
      System.err.println("redis-cluster: skipped, " + missing.get());
      return;
    }
    try (LocalRedisCluster cluster = LocalRedisCluster.start(work.resolve("redis-cluster"), 3)) {
      URI url = RedisClients.parse(cluster.url());
      String yaml = "types:\n  noop: {handler: noop}\n";
      drain(bootstrap, "warm-cluster", Math.max(10_000, items / 10), yaml, url);
      double[] ours = new double[rounds];
      double[] raw = new double[rounds];
      double[] ratio = new double[rounds];
      List<Long> share = List.of();
      for (int r = 0; r < rounds; r++) {
        FleetTopics b = WorkerBench.backlog(bootstrap, fresh("raw-c"), items, "noop", 12);
        double tRaw = WorkerBench.drainWithRawConsumer(bootstrap, b, items).seconds();
        List<Long> before = cluster.keysPerNode();
        WorkerBench.Drain d = drain(bootstrap, "cluster-" + r, items, yaml, url);
        List<Long> after = cluster.keysPerNode();
        List<Long> added = new ArrayList<>();
        for (int i = 0; i < after.size(); i++) added.add(after.get(i) - before.get(i));
        share = added;
        ours[r] = items / d.seconds();
        raw[r] = items / tRaw;
        ratio[r] = ours[r] / raw[r];
        System.err.printf(
            "noop+Redis Cluster round %d: worker %,.0f/s, raw consumer %,.0f/s; new keys per"
                + " master %s%n",
            r + 1, ours[r], raw[r], added);
      }
      long total = share.stream().mapToLong(Long::longValue).sum();
      StringBuilder pct = new StringBuilder();
      for (long n : share) {
        if (pct.length() > 0) pct.append(" / ");
        pct.append(String.format("%.1f %%", 100.0 * n / Math.max(1, total)));
      }
      table.add(
          String.format(
              "noop handler with idempotency on, Redis Cluster of 3 local masters (one 2-core"
                  + " machine: shows spread and correctness, not cluster speed), %,d items, median"
                  + " of %d",
              items, rounds),
          ResultTable.rate(ResultTable.median(ours)),
          ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
          ResultTable.ratios(ratio),
          "—");
      table.add(
          "↳ share of the item keys per master (last round; CRC16 slots over 3 masters)",
          pct.toString(),
          String.format("%,d keys", total),
          "—",
          "≈ 1/3 each");
    }
  }

  private static WorkerBench.Drain drain(
      String bootstrap, String what, int items, String yaml, URI redis) throws Exception {
    return RedisBench.drain(bootstrap, fresh(what), items, yaml, redis, MarkerLayout.KEYS);
  }

  private static String fresh(String what) {
    return "bench-" + what + "-" + System.nanoTime();
  }
}
