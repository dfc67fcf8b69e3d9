package io.itemfleet.bench;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import io.itemfleet.worker.handlers.BuiltInHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Worker rows: noop drain against a raw consumer, and simulate at 50 ms against Little's law. */
final class WorkerBench {
  private WorkerBench() {}

  /** Fills a fresh fleet's tasks topic with {@code items} plain IDs and returns its topics. */
  static FleetTopics backlog(
      String bootstrap, String prefix, int items, String type, int partitions) {
    FleetTopics topics = new FleetTopics(prefix);
    Map<String, Object> kafka = Map.of("bootstrap.servers", bootstrap);
    try (TopicAdmin admin = new TopicAdmin(kafka, topics, Duration.ofSeconds(30))) {
      admin.ensureTopics(partitions, (short) 1);
    }
    try (TaskProducer p = new TaskProducer(kafka, topics)) {
      ProduceRun run = p.startRun("bench", type, Map.of());
      for (int i = 0; i < items; i++) run.submit("item-" + i);
      if (!run.finish(Duration.ofMinutes(5)).complete())
        throw new IllegalStateException("could not fill the backlog");
    }
    return topics;
  }

  /** Seconds for one worker to run and commit the whole backlog, from its start. */
  static double drainWithWorker(
      String bootstrap, FleetTopics topics, int items, int concurrency, String yaml)
      throws Exception {
    return drainWithWorker(bootstrap, topics, items, concurrency, yaml, Map.of(), new AtomicLong());
  }

  /**
   * Seconds for one worker to run and commit the whole backlog: from {@code start} if a handler
   * sets it (the first item's start, leaving out the group join), else from the worker's start.
   */
  static double drainWithWorker(
      String bootstrap,
      FleetTopics topics,
      int items,
      int concurrency,
      String yaml,
      Map<String, TaskHandler> handlers,
      AtomicLong start)
      throws Exception {
    return drain(bootstrap, topics, items, concurrency, yaml, handlers, start, s -> s).seconds();
  }

  /**
   * One drain: its seconds from the first item's start (or from the worker's start when no handler
   * stamps one), its seconds from the worker's start, and the worker's counters at the end.
   */
  record Drain(double seconds, double withStartUp, long[] counters) {}

  /**
   * A drain's seconds from the first record received to the last offset committed, and from the
   * client's creation (group join, and for the worker transactions init, included).
   */
  record Timing(double seconds, double withStartUp) {}

  /** The built-in noop handler's behaviour, stamping the first call's start into {@code first}. */
  static TaskHandler noopStamping(AtomicLong first) {
    return ctx -> {
      stampFirst(first, System.nanoTime());
      return HandlerResult.succeeded();
    };
  }

  /** Records {@code now} as the first start unless one is recorded; a read, not a CAS, per call. */
  static void stampFirst(AtomicLong first, long now) {
    if (first.get() == 0) first.compareAndSet(0, now);
  }

  /** A plain consumer's settings, shared by the raw baseline and Parallel Consumer. */
  static Map<String, Object> plainConsumer(String bootstrap, String group) {
    return Map.of(
        "bootstrap.servers",
        bootstrap,
        "group.id",
        group,
        "auto.offset.reset",
        "earliest",
        "enable.auto.commit",
        false,
        "max.poll.records",
        2000);
  }

  /** As {@link #drainWithWorker}, with the worker's settings adjusted by {@code adjust}. */
  static Drain drain(
      String bootstrap,
      FleetTopics topics,
      int items,
      int concurrency,
      String yaml,
      Map<String, TaskHandler> handlers,
      AtomicLong start,
      UnaryOperator<WorkerSettings> adjust)
      throws Exception {
    return drain(
        bootstrap, topics, items, concurrency, yaml, handlers, List.of(), start::get, adjust);
  }

  /**
   * One worker, loading handler jars from {@code dirs}, drains the backlog; timed from the first
   * item's start as {@code start} reports it at the end (0: from the worker's start).
   */
  static Drain drainWithHandlerDirs(
      String bootstrap,
      FleetTopics topics,
      int items,
      int concurrency,
      String yaml,
      Map<String, TaskHandler> handlers,
      List<java.nio.file.Path> dirs,
      java.util.function.LongSupplier start)
      throws Exception {
    return drain(bootstrap, topics, items, concurrency, yaml, handlers, dirs, start, s -> s);
  }

  private static Drain drain(
      String bootstrap,
      FleetTopics topics,
      int items,
      int concurrency,
      String yaml,
      Map<String, TaskHandler> handlers,
      List<java.nio.file.Path> handlerDirs,
      java.util.function.LongSupplier start,
      UnaryOperator<WorkerSettings> adjust)
      throws Exception {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    WorkerSettings settings =
        adjust.apply(
            WorkerSettings.defaults(
                Map.of("bootstrap.servers", bootstrap), topics, "bench", concurrency));
    CommittedRecords commits = new CommittedRecords();
    long t0 = System.nanoTime();
    try (Worker w =
            Worker.start(
                settings, config, HandlerRegistry.create(config, handlers, handlerDirs), commits);
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      // The worker's own count of records in committed transactions first, then the broker: the
      // bench asked the broker for the group's offsets every 5 ms through the whole drain (a
      // FindCoordinator and an OffsetFetch each time), load that is no part of the worker's cost
      // (2026-11-30: no difference beyond the noise in four alternated runs). The end is still when
      // the broker shows every item committed; only the polling before that is local.
      while (commits.records() < items) {
        running(w);
        Thread.sleep(1);
      }
      while (committed(admin, settings.groupId(), topics.tasks()) < items) {
        running(w);
        Thread.sleep(1);
      }
      long end = System.nanoTime();
      long first = start.getAsLong();
      long from = first == 0 ? t0 : first;
      return new Drain((end - from) / 1e9, (end - t0) / 1e9, w.counters());
    }
  }

  private static void running(Worker w) {
    if (!w.isRunning()) {
      throw new IllegalStateException("worker stopped: " + w.failure().orElse(null));
    }
  }

  /** Counts the records of the worker's committed transactions (called after each commit). */
  private static final class CommittedRecords implements WorkerMetrics {
    private final java.util.concurrent.atomic.AtomicLong records =
        new java.util.concurrent.atomic.AtomicLong();

    long records() {
      return records.get();
    }

    @Override
    public void commit(long nanos, int n) {
      records.addAndGet(n);
    }

    @Override
    public void outcome(String type, io.itemfleet.schemas.Outcome outcome) {}

    @Override
    public void retry(String type) {}

    @Override
    public void handlerTime(String type, long nanos) {}

    @Override
    public void gauges(
        java.util.function.LongSupplier inFlight,
        java.util.function.LongSupplier lag,
        java.util.function.LongSupplier overdue) {}
  }

  /** How long a plain KafkaConsumer takes to poll the whole backlog, committing after each poll. */
  static Timing drainWithRawConsumer(String bootstrap, FleetTopics topics, int items) {
    Map<String, Object> p = plainConsumer(bootstrap, "raw-" + System.nanoTime());
    long t0 = System.nanoTime();
    long first = 0;
    long seen = 0;
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topics.tasks()));
      while (seen < items) {
        int n = c.poll(Duration.ofMillis(100)).count();
        if (n > 0 && first == 0) first = System.nanoTime();
        seen += n;
        c.commitAsync();
      }
      c.commitSync();
    }
    long end = System.nanoTime();
    return new Timing((end - first) / 1e9, (end - t0) / 1e9);
  }

  static long committed(Admin admin, String group, String topic) throws Exception {
    long sum = 0;
    for (var e :
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet()) {
      if (e.getKey().topic().equals(topic) && e.getValue() != null) sum += e.getValue().offset();
    }
    return sum;
  }

  static void noop(String bootstrap, int items, int rounds, ResultTable table) throws Exception {
    double[] ours = new double[rounds];
    double[] raw = new double[rounds];
    double[] pc = new double[rounds];
    double[] ratio = new double[rounds];
    double[] ratioWithStartUp = new double[rounds];
    double[] pcRatio = new double[rounds];
    String yaml = "types:\n  noop: {handler: noop}\n";
    // One unmeasured round of a tenth of the size first, so that no side pays for JIT warm-up.
    int warm = Math.max(10_000, items / 10);
    drainWithRawConsumer(bootstrap, backlog(bootstrap, fresh("warm-raw"), warm, "noop", 12), warm);
    drainNoop(bootstrap, backlog(bootstrap, fresh("warm-noop"), warm, "noop", 12), warm, yaml);
    ParallelConsumerBench.drain(
        bootstrap,
        backlog(bootstrap, fresh("warm-pc"), warm, "noop", 12),
        warm,
        256,
        v -> {},
        new AtomicLong());
    System.err.printf("noop warm-up: %,d items through each side, not measured%n", warm);
    for (int r = 0; r < rounds; r++) {
      FleetTopics a = backlog(bootstrap, fresh("noop-" + r), items, "noop", 12);
      FleetTopics b = backlog(bootstrap, fresh("raw-" + r), items, "noop", 12);
      FleetTopics c = backlog(bootstrap, fresh("pc-" + r), items, "noop", 12);
      Timing tRaw = null;
      Drain tOurs = null;
      double tPc = 0;
      // Rotate the order so that no side always runs first (or last) in a round.
      for (int k = 0; k < 3; k++) {
        switch ((r + k) % 3) {
          case 0 -> tRaw = drainWithRawConsumer(bootstrap, b, items);
          case 1 -> tOurs = drainNoop(bootstrap, a, items, yaml);
          default -> {
            AtomicLong pcFirst = new AtomicLong();
            tPc =
                ParallelConsumerBench.drain(
                    bootstrap,
                    c,
                    items,
                    256,
                    v -> {
                      stampFirst(pcFirst, System.nanoTime());
                    },
                    pcFirst);
          }
        }
      }
      ours[r] = items / tOurs.seconds();
      raw[r] = items / tRaw.seconds();
      pc[r] = items / tPc;
      ratio[r] = ours[r] / raw[r];
      ratioWithStartUp[r] = tRaw.withStartUp() / tOurs.withStartUp();
      pcRatio[r] = pc[r] / raw[r];
      System.err.printf(
          "noop round %d: worker %,.0f/s, raw consumer %,.0f/s, Parallel Consumer %,.0f/s"
              + " (with start-up: worker %.2f s, raw consumer %.2f s)%n",
          r + 1, ours[r], raw[r], pc[r], tOurs.withStartUp(), tRaw.withStartUp());
    }
    String what =
        String.format(
            "noop handler, %,d items, 12 partitions, 1 worker, concurrency 256 (items/s from the"
                + " first record to the last commit, median of %d)",
            items, rounds);
    table.add(
        what,
        ResultTable.rate(ResultTable.median(ours)),
        ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
        ResultTable.ratios(ratio),
        "≥ 0.6×");
    table.add(
        "↳ same, timed from each client's creation (group join and transactions init included)",
        "",
        "",
        ResultTable.ratios(ratioWithStartUp),
        "—");
    table.add(
        "↳ same, Confluent Parallel Consumer 0.5.3.3 UNORDERED (reference, not ours)",
        ResultTable.rate(ResultTable.median(pc)),
        ResultTable.rate(ResultTable.median(raw)) + " (raw KafkaConsumer)",
        ResultTable.ratios(pcRatio),
        "—");
  }

  /** One worker drains a noop backlog; timed from the first item's start. */
  private static Drain drainNoop(String bootstrap, FleetTopics topics, int items, String yaml)
      throws Exception {
    AtomicLong first = new AtomicLong();
    return drain(
        bootstrap, topics, items, 256, yaml, Map.of("noop", noopStamping(first)), first, s -> s);
  }

  private static String fresh(String what) {
    return "bench-" + what + "-" + System.nanoTime();
  }

  /** Whether the simulate rows' unmeasured warm-up has run in this JVM. */
  private static boolean simulateWarm;

  static void simulate(
      String bootstrap, int items, int concurrency, int rounds, double target, ResultTable table)
      throws Exception {
    if (!simulateWarm) {
      // One unmeasured pass of each side first, as for noop: a 1 s run would otherwise share its
      // cores with the JIT compiling the broker's, the consumer's and the worker's hot paths.
      simulatedDrain(bootstrap, 10_000, 1000);
      parallelConsumerSleeping(bootstrap, 10_000, 1000);
      simulateWarm = true;
      System.err.println("simulate warm-up: 10,000 items through each side, not measured");
    }
    double ideal = concurrency / 0.05;
    double[] ours = new double[rounds];
    double[] pc = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      double[] run = simulatedDrain(bootstrap, items, concurrency);
      ours[r] = items / run[0] / ideal;
      pc[r] = items / parallelConsumerSleeping(bootstrap, items, concurrency) / ideal;
      System.err.printf(
          "simulate %,d items at concurrency %d, round %d: efficiency %.3f (mean handler time %.1f"
              + " ms); Parallel Consumer %.3f%n",
          items, concurrency, r + 1, ours[r], run[1], pc[r]);
    }
    table.add(
        String.format(
            "simulate 50 ms, %,d items, concurrency %d (Little's-law efficiency: items/s from the"
                + " first item's start to the last commit, over %,.0f/s; median of %d)",
            items, concurrency, ideal, rounds),
        ResultTable.rate(ResultTable.median(ours) * ideal),
        ResultTable.rate(ideal) + " (Little's-law ideal)",
        ResultTable.efficiencies(ours),
        "≥ " + target);
    table.add(
        "↳ same, Confluent Parallel Consumer 0.5.3.3 UNORDERED, 50 ms sleep (reference)",
        ResultTable.rate(ResultTable.median(pc) * ideal),
        ResultTable.rate(ideal) + " (Little's-law ideal)",
        ResultTable.efficiencies(pc),
        "—");
  }

  /**
   * One worker runs a backlog through the built-in simulate handler at 50 ms. Returns the seconds
   * from the first item's start to the last commit, and the mean time a handler call took in ms
   * (its sleep overshoots when the cores are busy).
   */
  private static double[] simulatedDrain(String bootstrap, int items, int concurrency)
      throws Exception {
    FleetTopics t = backlog(bootstrap, fresh("sim-" + concurrency), items, "sim", 12);
    TaskHandler sim =
        new BuiltInHandlers.Simulate()
            .create(
                "sim",
                io.itemfleet.handler.HandlerConfig.of("types.sim", Map.of("latency", "50ms")));
    AtomicLong firstStart = new AtomicLong();
    LongAdder handlerNanos = new LongAdder();
    TaskHandler timed =
        ctx -> {
          long t0 = System.nanoTime();
          stampFirst(firstStart, t0);
          HandlerResult r = sim.handle(ctx);
          handlerNanos.add(System.nanoTime() - t0);
          return r;
        };
    double secs =
        drainWithWorker(
            bootstrap,
            t,
            items,
            concurrency,
            "types:\n  sim: {handler: simulate, latency: 50ms}\n",
            Map.of("sim", timed),
            firstStart);
    return new double[] {secs, handlerNanos.sum() / 1e6 / items};
  }

  /** Parallel Consumer with a 50 ms sleep per record: seconds, timed like ours. */
  private static double parallelConsumerSleeping(String bootstrap, int items, int concurrency)
      throws Exception {
    FleetTopics tp = backlog(bootstrap, fresh("sim-pc-" + concurrency), items, "sim", 12);
    AtomicLong pcFirst = new AtomicLong();
    return ParallelConsumerBench.drain(
        bootstrap,
        tp,
        items,
        concurrency,
        v -> {
          stampFirst(pcFirst, System.nanoTime());
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        pcFirst);
  }
}
