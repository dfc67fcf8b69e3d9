package io.itemfleet.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code process} handler with a Python noop (clients/python/itemfleet.py) against {@code exec}
 * running the same Python per item, and against the built-in noop, in one run on one broker.
 */
final class ProcessBench {
  private ProcessBench() {}

  static void run(String bootstrap, int rounds, Path work, ResultTable table) throws Exception {
    Path client = Path.of(System.getProperty("itemfleet.root", ".")).resolve("clients/python");
    if (!Files.exists(client.resolve("itemfleet.py"))) {
      System.out.println("process: skipped, no clients/python/itemfleet.py under " + client);
      return;
    }
    Path serve = work.resolve("serve_noop.py");
    Files.writeString(
        serve,
        "import sys\nsys.path.insert(0, %s)\nimport itemfleet\nitemfleet.serve(lambda task: None)\n"
            .formatted(pyString(client.toString())));
    Path once = work.resolve("once_noop.py");
    Files.writeString(
        once,
        "import sys\nsys.path.insert(0, %s)\nimport itemfleet\n"
            .formatted(pyString(client.toString())));
    int items = 20_000;
    int execItems = 300;
    String python = interpreter(); // the real binary: a version manager's shim costs ~0.3 s a start
    System.out.println("process: Python " + python);
    String processYaml =
        "types:\n  py: {handler: process, command: ['"
            + python
            + "', '"
            + serve
            + "'], processes: 2, inflight: 64}\n";
    String execYaml =
        "types:\n  py: {handler: exec, command: ['" + python + "', '" + once + "']}\n";
    String noopYaml = "types:\n  py: {handler: noop}\n";
    double[] process = new double[rounds];
    double[] exec = new double[rounds];
    double[] noop = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      process[r] = rate(bootstrap, "process", items, 128, processYaml);
      exec[r] = rate(bootstrap, "exec", execItems, 32, execYaml);
      noop[r] = rate(bootstrap, "noop-py", items, 128, noopYaml);
      System.out.printf(
          "process round %d: process %,.0f/s, exec %,.0f/s, built-in noop %,.0f/s%n",
          r + 1, process[r], exec[r], noop[r]);
    }
    double[] vsExec = new double[rounds];
    double[] vsNoop = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      vsExec[r] = process[r] / exec[r];
      vsNoop[r] = process[r] / noop[r];
    }
    table.add(
        "process handler, Python noop via clients/python/itemfleet.py, 20,000 items, 2 children ×"
            + " 64 in flight, 1 worker at concurrency 128 (vs exec running the same Python per item,"
            + " 300 items at concurrency 32; items/s from the worker's start, median of "
            + rounds
            + ")",
        ResultTable.rate(ResultTable.median(process)),
        ResultTable.rate(ResultTable.median(exec)) + " (exec)",
        ResultTable.ratios(vsExec),
        "≥ 50× exec and ≥ 5,000/s");
    table.add(
        "↳ same run, against the built-in noop handler (20,000 items, concurrency 128)",
        ResultTable.rate(ResultTable.median(process)),
        ResultTable.rate(ResultTable.median(noop)) + " (noop)",
        ResultTable.ratios(vsNoop),
        "—");
  }

  private static double rate(String bootstrap, String what, int items, int concurrency, String yaml)
      throws Exception {
    var topics =
        WorkerBench.backlog(bootstrap, "bench-" + what + "-" + System.nanoTime(), items, "py", 12);
    double seconds =
        WorkerBench.drainWithWorker(
            bootstrap, topics, items, concurrency, yaml, Map.of(), new AtomicLong());
    return items / seconds;
  }

  /** The interpreter {@code python3} resolves to, past any shim in front of it. */
  private static String interpreter() throws Exception {
    Process p =
        new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    return p.waitFor() == 0 && !out.isEmpty() ? out : "python3";
  }

  private static String pyString(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
