package io.itemfleet.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary, one replica and one Sentinel watching them, as real {@code redis-server} processes on
 * free loopback ports, for tests of a failover: {@link #failover} has the Sentinel promote the
 * replica, as it would when the primary's machine is lost. Needs Debian's {@code redis-server} and
 * {@code redis-cli}; {@link LocalRedisCluster#missing} says what is not there.
 */
public final class LocalRedisSentinel implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalRedisSentinel.class);

  /** The name the Sentinel knows the primary by. */
  public static final String MASTER_NAME = "fleetmaster";

  private final List<Process> processes = new ArrayList<>();
  private final int primaryPort;
  private final int replicaPort;
  private final int sentinelPort;

  private LocalRedisSentinel(int primaryPort, int replicaPort, int sentinelPort) {
    this.primaryPort = primaryPort;
    this.replicaPort = replicaPort;
    this.sentinelPort = sentinelPort;
  }

  /** Starts the three processes under {@code dir}; returns once the Sentinel sees the replica. */
  public static LocalRedisSentinel start(Path dir) {
    LocalRedisSentinel s =
        new LocalRedisSentinel(FreePorts.next(), FreePorts.next(), FreePorts.next());
    try {
      Files.createDirectories(dir);
      s.server(dir, s.primaryPort, List.of());
      s.server(
          dir, s.replicaPort, List.of("--replicaof", "127.0.0.1", Integer.toString(s.primaryPort)));
      Path conf = dir.resolve("sentinel.conf");
      Files.writeString(
          conf,
          String.join(
              "\n",
              "port " + s.sentinelPort,
              "bind 127.0.0.1",
              "dir " + dir,
              "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + s.primaryPort + " 1",
              "sentinel down-after-milliseconds " + MASTER_NAME + " 2000",
              "sentinel failover-timeout " + MASTER_NAME + " 10000",
              ""));
      s.processes.add(
          new ProcessBuilder("redis-server", conf.toString(), "--sentinel")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("sentinel.log").toFile())
              .start());
      s.await("the replica in sync", () -> replicaInSync(s.primaryPort));
      s.await(
          "the Sentinel to see the replica",
          () ->
              LocalRedisCluster.cli(s.sentinelPort, "SENTINEL", "REPLICAS", MASTER_NAME)
                  .contains(Integer.toString(s.replicaPort)));
    } catch (IOException e) {
      s.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    log.info(
        "local Redis primary :{}, replica :{}, Sentinel :{}",
        s.primaryPort,
        s.replicaPort,
        s.sentinelPort);
    return s;
  }

  /** A URL for FLEET_REDIS_URL: the Sentinel and the primary's name. */
  public String url() {
    return "redis-sentinel://127.0.0.1:" + sentinelPort + "/" + MASTER_NAME;
  }

  /** The port of the node the Sentinel names as primary now. */
  public int primaryPort() {
    String[] addr =
        LocalRedisCluster.cli(sentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
            .strip()
            .split("\\R");
    return Integer.parseInt(addr[addr.length - 1].strip());
  }

  /** The port the replica was started on (the primary after one failover). */
  public int replicaPort() {
    return replicaPort;
  }

  /**
   * Has the Sentinel promote the replica ({@code SENTINEL FAILOVER}); returns once it names the
   * replica as primary and that node says it is one.
   */
  public void failover() {
    await(
        "the Sentinel to accept the failover",
        () ->
            LocalRedisCluster.cli(sentinelPort, "SENTINEL", "FAILOVER", MASTER_NAME)
                .strip()
                .equals("OK"));
    await(
        "the replica to be promoted",
        () ->
            primaryPort() == replicaPort
                && LocalRedisCluster.cli(replicaPort, "ROLE").startsWith("master"));
  }

  private static boolean replicaInSync(int primaryPort) {
    String info = LocalRedisCluster.cli(primaryPort, "INFO", "replication");
    return info.contains("connected_slaves:1") && info.contains("state=online");
  }

  private void server(Path dir, int port, List<String> extra) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString()));
    cmd.addAll(extra);
    processes.add(
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
            .start());
  }

  private void await(String what, java.util.function.BooleanSupplier done) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try {
        if (done.getAsBoolean()) return;
      } catch (RuntimeException e) {
        // not yet
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("timed out waiting for " + what);
  }

  @Override
  public void close() {
    for (Process p : processes) p.destroyForcibly();
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
