package io.itemfleet.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.itemfleet.schemas.FleetTopics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Worker heap while draining a backlog: the worker runs in its own JVM capped at {@code -Xmx256m}
 * (so that the broker and the producer do not count), and reports the largest heap in use just
 * after a collection during the drain, and the heap in use after the drain and a full collection.
 */
final class HeapBench {
  private HeapBench() {}

  static final int CAP_MIB = Integer.getInteger("bench.heapCapMiB", 256);

  static void run(String bootstrap, int items, int concurrency, ResultTable table)
      throws Exception {
    FleetTopics topics =
        WorkerBench.backlog(bootstrap, "bench-heap-" + System.nanoTime(), items, "noop", 12);
    String java = ProcessHandle.current().info().command().orElse("java");
    String jar =
        Path.of(HeapBench.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + CAP_MIB + "m"));
    if (Runtime.version().feature() >= 23) cmd.add("--sun-misc-unsafe-memory-access=allow");
    cmd.addAll(
        List.of(
            "-cp",
            jar,
            HeapBench.class.getName(),
            bootstrap,
            topics.prefix(),
            Integer.toString(items),
            Integer.toString(concurrency)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String result = null;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.startsWith("HEAP ")) result = line;
      }
    }
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || result == null) {
      p.destroyForcibly();
      table.add(
          String.format(
              "worker heap draining %,d items at concurrency %d (-Xmx%dm)",
              items, concurrency, CAP_MIB),
          "failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + ")",
          "",
          "",
          "≤ 256 MiB");
      return;
    }
    String[] f = result.split(" ");
    double peak = Double.parseDouble(f[1]);
    double after = Double.parseDouble(f[2]);
    double secs = Double.parseDouble(f[3]);
    table.add(
        String.format(
            "worker heap draining %,d items at concurrency %d, own JVM with -Xmx%dm (MiB in use after GC)",
            items, concurrency, CAP_MIB),
        String.format("peak %.0f MiB, after drain %.0f MiB", peak, after),
        String.format("drained in %.1f s without OutOfMemoryError", secs),
        "",
        "≤ 256 MiB");
    System.err.printf(
        "heap: peak after GC %.0f MiB, after drain %.0f MiB, %.1f s%n", peak, after, secs);
  }

  /** The child: runs one worker over the backlog and prints "HEAP peak after seconds". */
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    FleetTopics topics = new FleetTopics(args[1]);
    int items = Integer.parseInt(args[2]);
    int concurrency = Integer.parseInt(args[3]);
    AtomicLong peak = new AtomicLong();
    java.util.Set<String> heapPools = new java.util.HashSet<>();
    for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP) heapPools.add(pool.getName());
    }
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc)
          .addNotificationListener(
              (n, h) -> {
                if (!n.getType()
                    .equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                  return;
                }
                GarbageCollectionNotificationInfo info =
                    GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used = 0;
                for (var e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                  if (heapPools.contains(e.getKey())) used += e.getValue().getUsed();
                }
                peak.accumulateAndGet(used, Math::max);
              },
              null,
              null);
    }
    double secs =
        WorkerBench.drainWithWorker(
            bootstrap, topics, items, concurrency, "types:\n  noop: {handler: noop}\n");
    System.gc();
    Thread.sleep(200);
    System.gc();
    long after = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    System.out.printf(
        java.util.Locale.ROOT,
        "HEAP %.1f %.1f %.2f%n",
        peak.get() / 1048576.0,
        after / 1048576.0,
        secs);
  }
}
