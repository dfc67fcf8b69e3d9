package io.itemfleet.bench;

import io.itemfleet.cli.FleetCommand;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.FleetTopics;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
    double[] ratios = new double[rounds];
    // One unmeasured pass of each side first (JIT warm-up), a tenth of the size.
    Path warmIds = work.resolve("ids-warm.txt");
    try (BufferedWriter w = Files.newBufferedWriter(warmIds)) {
      for (int i = 0; i < Math.max(10_000, items / 10); i++) {
        w.write("warm-" + i);
        w.newLine();
      }
    }
    int warm = Math.max(10_000, items / 10);
    bareLoop(bootstrap, warmIds, warm, "bench-warm-raw-" + System.nanoTime());
    fleetProduce(bootstrap, warmIds, warm, "bench-warm-ours-" + System.nanoTime());
    for (int round = 1; round <= rounds; round++) {
      // Alternate who goes first, so that neither side always meets a busier broker.
      double raw;
      double ours;
      if (round % 2 == 1) {
        raw = bareLoop(bootstrap, ids, items, "bench-raw-" + round + "-" + System.nanoTime());
        ours = fleetProduce(bootstrap, ids, items, "bench-ours-" + round + "-" + System.nanoTime());
      } else {
        ours = fleetProduce(bootstrap, ids, items, "bench-ours-" + round + "-" + System.nanoTime());
        raw = bareLoop(bootstrap, ids, items, "bench-raw-" + round + "-" + System.nanoTime());
      }
      System.err.printf(
          "produce round %d: fleet produce %,.0f/s, bare KafkaProducer %,.0f/s%n",
          round, ours, raw);
      oursRates[round - 1] = ours;
      rawRates[round - 1] = raw;
      ratios[round - 1] = ours / raw;
    }
    table.add(
        String.format(
            "produce %,d IDs from a file (items/s, median of %d paired rounds)", items, rounds),
        ResultTable.rate(ResultTable.median(oursRates)),
        ResultTable.rate(ResultTable.median(rawRates)) + " (bare KafkaProducer)",
        ResultTable.ratios(ratios),
        "≥ 0.8×");
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

  /** A bare loop: read lines, send each as key and value, flush, count acknowledgements. */
  static double bareLoop(String bootstrap, Path ids, int items, String prefix) throws IOException {
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
            new ProducerRecord<>(topics.tasks(), line, line.getBytes(StandardCharsets.UTF_8)),
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
