package io.itemfleet.bench;

import io.itemfleet.embedded.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the benchmarks and prints one table. Every row measures ItemFleet and its raw-Kafka baseline
 * in the same run on the same broker. Usage: {@code scripts/bench.sh [produce] [--items N]
 * [--rounds R]}; FLEET_KAFKA_BOOTSTRAP selects an existing broker, else one is embedded.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) {
    // Exit explicitly: Parallel Consumer can leave non-daemon threads behind, which would keep the
    // JVM (and the script) waiting after the table, or after a failure, forever.
    try {
      run(args);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
    System.exit(0);
  }

  private static void run(String[] args) throws Exception {
    List<String> which = new ArrayList<>();
    int items = 1_000_000;
    int rounds = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--items" -> items = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "-h", "--help" -> {
          System.out.println(
              "usage: scripts/bench.sh [produce] [noop] [redis] [redis-cluster] [simulate] [heap] [recorder] [process] [handler-jar] [console] [--items N] [--rounds R]");
          return;
        }
        default -> which.add(args[i]);
      }
    }
    if (which.isEmpty()) {
      which.addAll(
          List.of(
              "produce",
              "noop",
              "redis",
              "redis-cluster",
              "simulate",
              "heap",
              "recorder",
              "process",
              "handler-jar",
              "console"));
    }
    Path work = Files.createTempDirectory("itemfleet-bench-");
    String env = System.getenv("FLEET_KAFKA_BOOTSTRAP");
    EmbeddedKafkaBroker broker =
        env == null ? EmbeddedKafkaBroker.start(work.resolve("kafka"), 0, false) : null;
    String bootstrap = env == null ? broker.bootstrap() : env;
    ResultTable table = new ResultTable();
    try {
      for (String w : which) {
        switch (w) {
          case "produce" -> ProduceBench.run(bootstrap, items, rounds, work, table);
          case "noop" -> WorkerBench.noop(bootstrap, items, rounds, table);
          case "redis" -> RedisBench.run(bootstrap, items, rounds, table);
          case "redis-cluster" -> RedisClusterBench.run(bootstrap, items, rounds, work, table);
          case "heap" -> HeapBench.run(bootstrap, items, 1000, table);
          case "recorder" -> RecorderBench.run(bootstrap, items, work, table);
          case "process" -> ProcessBench.run(bootstrap, rounds, work, table);
          case "console" -> ConsoleBench.run(bootstrap, work, table);
          case "handler-jar" ->
              HandlerJarBench.run(bootstrap, Math.min(items, 500_000), rounds, work, table);
          case "simulate" -> {
            WorkerBench.simulate(bootstrap, 20_000, 1000, rounds, 0.9, table);
            WorkerBench.simulate(bootstrap, 5_000, 100, rounds, 0.98, table);
          }
          default ->
              throw new IllegalArgumentException(
                  "unknown benchmark '"
                      + w
                      + "' (known: produce, noop, redis, redis-cluster, simulate, heap, recorder, process, handler-jar, console)");
        }
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "ItemFleet benchmarks — %d cores, %d MiB max heap, Java %s, broker %s%n%n",
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        Runtime.version(),
        env == null ? "embedded KRaft (same JVM)" : env);
    table.print(System.out);
  }
}
