package io.itemfleet.bench;

import io.itemfleet.cli.FleetCommand;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Enqueues the same IDs file with {@code fleet produce} and with a bare KafkaProducer loop using
 * the same producer settings, on the same broker, alternating who goes first, after one unmeasured
 * warm-up pass of each; the ratio is the median of the paired rounds'.
 */
final class ProduceBench {
  private ProduceBench() {}

  static void run(String bootstrap, int items, int rounds, Path work, ResultTable table)
      throws IOException {
    Path ids = work.resolve("ids.txt");
    try (BufferedWriter w = Files.newBufferedWriter(ids)) {
      for (int i = 0; i < items; i++) {
        w.write("item-");
        w.write(Integer.toString(i));
        w.newLine();
      }
    }
    double[] oursRates = new double[rounds];
    double[] rawRates = new double[rounds];
    double[] headedRates = new double[rounds];
    double[] ratios = new double[rounds];
    double[] headedRatios = new double[rounds];
    // One unmeasured pass of each side first (JIT warm-up), a tenth of the size.
    Path warmIds = work.resolve("ids-warm.txt");
    try (BufferedWriter w = Files.newBufferedWriter(warmIds)) {
      for (int i = 0; i < Math.max(10_000, items / 10); i++) {
        w.write("warm-" + i);
        w.newLine();
      }
    }
    int warm = Math.max(10_000, items / 10);
    bareLoop(bootstrap, warmIds, warm, "bench-warm-raw-" + System.nanoTime(), false);
    bareLoop(bootstrap, warmIds, warm, "bench-warm-headed-" + System.nanoTime(), true);
    fleetProduce(bootstrap, warmIds, warm, "bench-warm-ours-" + System.nanoTime());
    for (int round = 1; round <= rounds; round++) {
      // Rotate who goes first, so that no side always meets a busier broker.
      double raw = 0;
      double headed = 0;
      double ours = 0;
      for (int turn = 0; turn < 3; turn++) {
        settle();
        String tag = round + "-" + System.nanoTime();
        switch ((round + turn) % 3) {
          case 0 -> raw = bareLoop(bootstrap, ids, items, "bench-raw-" + tag, false);
          case 1 -> headed = bareLoop(bootstrap, ids, items, "bench-headed-" + tag, true);
          default -> ours = fleetProduce(bootstrap, ids, items, "bench-ours-" + tag);
        }
      }
      System.err.printf(
          "produce round %d: fleet produce %,.0f/s, bare KafkaProducer %,.0f/s, bare with the two"
              + " headers %,.0f/s%n",
          round, ours, raw, headed);
      oursRates[round - 1] = ours;
      rawRates[round - 1] = raw;
      headedRates[round - 1] = headed;
      ratios[round - 1] = ours / raw;
      headedRatios[round - 1] = ours / headed;
    }
    table.add(
        String.format(
            "produce %,d IDs from a file (items/s, median of %d paired rounds)", items, rounds),
        ResultTable.rate(ResultTable.median(oursRates)),
        ResultTable.rate(ResultTable.median(rawRates)) + " (bare KafkaProducer)",
        ResultTable.ratios(ratios),
        "≥ 0.8×");
    table.add(
        "↳ same rounds, against a bare KafkaProducer that also sends the `fleet-job` and"
            + " `fleet-type` headers every plain record carries",
        ResultTable.rate(ResultTable.median(oursRates)),
        ResultTable.rate(ResultTable.median(headedRates)) + " (bare, with the two headers)",
        ResultTable.ratios(headedRatios),
        "—");
  }

  /**
   * Before each measured side: a full GC of this JVM (the broker's too, it runs here) and a moment
   * for the broker's background work, so that neither side pays for garbage the other left.
   */
  private static void settle() {
    System.gc();
    try {
      Thread.sleep(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void createTopics(String bootstrap, FleetTopics topics) {
    try (TopicAdmin admin =
        new TopicAdmin(Map.of("bootstrap.servers", bootstrap), topics, Duration.ofSeconds(30))) {
      admin.ensureTopics(12, (short) 1);
    }
  }

  /** {@code fleet produce --ids-file}, in this JVM, timed from the command's start to its exit. */
  static double fleetProduce(String bootstrap, Path ids, int items, String prefix) {
    createTopics(bootstrap, new FleetTopics(prefix));
    long t0 = System.nanoTime();
    int code =
        FleetCommand.commandLine()
            .execute(
                "produce",
                "--bootstrap",
                bootstrap,
                "--topic-prefix",
                prefix,
                "--job",
                "bench",
                "--type",
                "noop",
                "--ids-file",
                ids.toString());
    double secs = (System.nanoTime() - t0) / 1e9;
    if (code != 0) {
      throw new IllegalStateException("fleet produce exited " + code);
    }
    return items / secs;
  }

  /** What a plain record of a produce run carries besides its ID: its job and type. */
  private static final List<Header> HEADERS =
      List.of(
          new RecordHeader(FleetHeaders.JOB, "bench".getBytes(StandardCharsets.UTF_8)),
          new RecordHeader(FleetHeaders.TYPE, "noop".getBytes(StandardCharsets.UTF_8)));

  /**
   * A bare loop: read lines, send each as key and value (with the two headers a plain record of a
   * produce run carries, when {@code headers}), flush, count acknowledgements.
   */
  static double bareLoop(String bootstrap, Path ids, int items, String prefix, boolean headers)
      throws IOException {
    FleetTopics topics = new FleetTopics(prefix);
    createTopics(bootstrap, topics);
    AtomicLong acked = new AtomicLong();
    long t0 = System.nanoTime();
    try (KafkaProducer<String, byte[]> p =
            new KafkaProducer<>(
                TaskProducer.producerProperties(Map.of("bootstrap.servers", bootstrap)),
                new StringSerializer(),
                new ByteArraySerializer());
        BufferedReader r = Files.newBufferedReader(ids, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        p.send(
            new ProducerRecord<>(
                topics.tasks(),
                null,
                null,
                line,
                line.getBytes(StandardCharsets.UTF_8),
                headers ? HEADERS : null),
            (m, e) -> {
              if (e == null) acked.incrementAndGet();
            });
      }
      p.flush();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    if (acked.get() != items) {
      throw new IllegalStateException(
          "bare producer: " + acked.get() + " of " + items + " acknowledged");
    }
    return items / secs;
  }
}
