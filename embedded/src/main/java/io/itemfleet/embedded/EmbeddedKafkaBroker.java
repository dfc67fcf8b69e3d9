package io.itemfleet.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one) running in this JVM, from
 * Apache Kafka's own server jar. Transactions, consumer groups and read_committed all work;
 * internal topics have one partition and one replica so that start-up stays fast.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

  /** The running server. */
  private final KafkaRaftServer server;

  /** host:port for clients. */
  private final String bootstrap;

  /** Storage directory; deleted on close unless kept. */
  private final Path dir;

  /** Whether close leaves {@link #dir} in place. */
  private final boolean keepData;

  private EmbeddedKafkaBroker(
      KafkaRaftServer server, String bootstrap, Path dir, boolean keepData) {
    this.server = server;
    this.bootstrap = bootstrap;
    this.dir = dir;
    this.keepData = keepData;
  }

  /**
   * Formats {@code dir} (unless it already holds a formatted broker) and starts a broker on {@code
   * port} (0 picks a free one). Returns once the broker accepts requests.
   */
  public static EmbeddedKafkaBroker start(Path dir, int port, boolean keepData) {
    long t0 = System.nanoTime();
    int brokerPort = port == 0 ? FreePorts.next() : port;
    int controllerPort = FreePorts.next();
    // The OS may hand out the port just closed again: two listeners on one port fail the broker
    // ("two listeners on the same port"), as a clean-clone CI once did.
    while (controllerPort == brokerPort) controllerPort = FreePorts.next();
    Properties p = properties(dir, brokerPort, controllerPort);
    try {
      Files.createDirectories(dir);
      Path config = dir.resolve("server.properties");
      try (Writer w = Files.newBufferedWriter(config)) {
        p.store(w, "written by ItemFleet's embedded broker");
      }
      if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
        format(config);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare Kafka storage in " + dir, e);
    }
    KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
    try {
      server.startup(); // blocks until the broker is unfenced and serving requests
    } catch (RuntimeException e) {
      server.shutdown();
      throw new IllegalStateException(
          "embedded Kafka did not start on port " + brokerPort + ": " + e.getMessage(), e);
    }
    String bootstrap = "127.0.0.1:" + brokerPort;
    log.info(
        "embedded Kafka started at {} (data {}) in {} ms",
        bootstrap,
        dir,
        (System.nanoTime() - t0) / 1_000_000);
    return new EmbeddedKafkaBroker(server, bootstrap, dir, keepData);
  }

  /** Bootstrap servers for clients, e.g. {@code 127.0.0.1:40123}. */
  public String bootstrap() {
    return bootstrap;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (!keepData) {
      deleteRecursively(dir);
    }
  }

  private static Properties properties(Path dir, int brokerPort, int controllerPort) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.resolve("data").toString());
    p.put("num.partitions", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    // ItemFleet creates its topics itself; a typo must not create a topic.
    p.put("auto.create.topics.enable", "false");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("server.max.startup.time.ms", "60000");
    return p;
  }

  private static void format(Path config) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc;
    try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      rc =
          StorageTool.execute(
              new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()},
              ps);
    }
    if (rc != 0) {
      throw new IllegalStateException(
          "formatting Kafka storage failed (exit "
              + rc
              + "): "
              + out.toString(StandardCharsets.UTF_8));
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }
}
