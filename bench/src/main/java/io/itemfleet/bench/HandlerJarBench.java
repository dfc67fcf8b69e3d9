package io.itemfleet.bench;

import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.FleetTopics;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;

/**
 * A noop handler loaded from a handler jar ({@code --handlers DIR}: its own class loader, found by
 * ServiceLoader) against the built-in noop, side by side on one broker, same items and concurrency,
 * the order alternating per round.
 */
final class HandlerJarBench {
  private HandlerJarBench() {}

  static void run(String bootstrap, int items, int rounds, Path work, ResultTable table)
      throws Exception {
    Path dir = buildJar(work);
    String jarYaml = "types:\n  t: {handler: jar-noop}\n";
    String builtInYaml = "types:\n  t: {handler: noop}\n";
    double[] jar = new double[rounds];
    double[] builtIn = new double[rounds];
    double[] ratio = new double[rounds];
    rate(bootstrap, "warm-jar", Math.max(10_000, items / 10), jarYaml, dir); // JIT warm-up
    rate(bootstrap, "warm-builtin", Math.max(10_000, items / 10), builtInYaml, null);
    for (int r = 0; r < rounds; r++) {
      if (r % 2 == 0) {
        jar[r] = rate(bootstrap, "jar", items, jarYaml, dir);
        builtIn[r] = rate(bootstrap, "builtin", items, builtInYaml, null);
      } else {
        builtIn[r] = rate(bootstrap, "builtin", items, builtInYaml, null);
        jar[r] = rate(bootstrap, "jar", items, jarYaml, dir);
      }
      ratio[r] = jar[r] / builtIn[r];
      System.err.printf(
          "handler-jar round %d: jar noop %,.0f/s, built-in noop %,.0f/s%n",
          r + 1, jar[r], builtIn[r]);
    }
    table.add(
        String.format(
            "noop from a handler jar (--handlers DIR, own class loader), %,d items, 12 partitions,"
                + " 1 worker, concurrency 256 (items/s from the first item to the last commit, median of %d)",
            items, rounds),
        ResultTable.rate(ResultTable.median(jar)),
        ResultTable.rate(ResultTable.median(builtIn)) + " (built-in noop)",
        ResultTable.ratios(ratio),
        "within noise of 1.0×");
  }

  /**
   * Items/s of one drain, from the first item's start to the last commit: the jar's handler stamps
   * its first call in a system property (it sees nothing of the bench's classes), the built-in side
   * in an AtomicLong, as the noop row does.
   */
  private static double rate(String bootstrap, String what, int items, String yaml, Path dir)
      throws Exception {
    FleetTopics topics =
        WorkerBench.backlog(bootstrap, "bench-" + what + "-" + System.nanoTime(), items, "t", 12);
    WorkerBench.Drain d;
    if (dir != null) {
      System.getProperties().remove("itemfleet.bench.first");
      d =
          WorkerBench.drainWithHandlerDirs(
              bootstrap,
              topics,
              items,
              256,
              yaml,
              Map.of(),
              List.of(dir),
              () -> Long.parseLong(System.getProperty("itemfleet.bench.first", "0")));
    } else {
      AtomicLong first = new AtomicLong();
      d =
          WorkerBench.drainWithHandlerDirs(
              bootstrap,
              topics,
              items,
              256,
              yaml,
              Map.of("noop", WorkerBench.noopStamping(first)),
              List.of(),
              first::get);
    }
    return items / d.seconds();
  }

  /** Compiles a noop handler factory against the handler API alone and jars it. */
  private static Path buildJar(Path work) throws Exception {
    Path src = work.resolve("jar-noop/src/bench/jarnoop/NoopFactory.java");
    Files.createDirectories(src.getParent());
    Files.writeString(
        src,
        """
        package bench.jarnoop;
        import io.itemfleet.handler.*;
        public final class NoopFactory implements TaskHandlerFactory {
          public String name() { return "jar-noop"; }
          public TaskHandler create(String type, HandlerConfig config) {
            return new TaskHandler() {
              private boolean stamped; // the first call's start, for the bench's clock
              public HandlerResult handle(TaskContext ctx) {
                if (!stamped) {
                  stamped = true;
                  System.getProperties()
                      .putIfAbsent("itemfleet.bench.first", Long.toString(System.nanoTime()));
                }
                return HandlerResult.succeeded();
              }
            };
          }
        }
        """);
    Path classes = work.resolve("jar-noop/classes");
    Files.createDirectories(classes);
    String api =
        Path.of(TaskHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    var javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) throw new IllegalStateException("handler-jar bench needs a JDK (javac)");
    int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", api, src.toString());
    if (rc != 0) throw new IllegalStateException("could not compile the bench's noop handler");
    Path dir = work.resolve("jar-noop/handlers");
    Files.createDirectories(dir);
    try (OutputStream out = Files.newOutputStream(dir.resolve("jar-noop.jar"));
        JarOutputStream jar = new JarOutputStream(out)) {
      try (var files = Files.list(classes.resolve("bench/jarnoop"))) {
        for (Path c : files.toList()) { // NoopFactory and its handler class
          jar.putNextEntry(new JarEntry("bench/jarnoop/" + c.getFileName()));
          Files.copy(c, jar);
          jar.closeEntry();
        }
      }
      jar.putNextEntry(new JarEntry("META-INF/services/io.itemfleet.handler.TaskHandlerFactory"));
      jar.write("bench.jarnoop.NoopFactory\n".getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return dir;
  }
}
