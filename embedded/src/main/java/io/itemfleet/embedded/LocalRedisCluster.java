package io.itemfleet.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis Cluster on this machine, for tests and benchmarks: {@code masters} {@code
 * redis-server} processes in cluster mode on free loopback ports, joined by {@code redis-cli
 * --cluster create} with no replicas. Each node keeps an append-only file fsynced on every write,
 * so that a node killed and started again ({@link #restart}) comes back with its keys, as a
 * production master with persistence would. Needs Debian's {@code redis-server} and {@code
 * redis-cli} (7.x) on the PATH; {@link #missing} says what is not there.
 */
public final class LocalRedisCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalRedisCluster.class);

  private final Path dir;
  private final List<Integer> ports;
  private final Process[] nodes;

  private LocalRedisCluster(Path dir, List<Integer> ports) {
    this.dir = dir;
    this.ports = ports;
    this.nodes = new Process[ports.size()];
  }

  /** Why no cluster can be started here (a program missing), or empty when one can. */
  public static Optional<String> missing() {
    for (String tool : List.of("redis-server", "redis-cli")) {
      if (which(tool).isEmpty()) {
        return Optional.of("no " + tool + " on the PATH (apt-get install redis-server)");
      }
    }
    return Optional.empty();
  }

  /** Starts {@code masters} nodes under {@code dir} and joins them into one cluster. */
  public static LocalRedisCluster start(Path dir, int masters) {
    return start(dir, masters, 0);
  }

  /**
   * Starts {@code masters} primaries and {@code replicas} replicas of each under {@code dir} and
   * joins them into one cluster ({@code --cluster-replicas}).
   */
  public static LocalRedisCluster start(Path dir, int masters, int replicas) {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(dir, masters, replicas);
      } catch (PortTaken e) {
        // A port found free was taken before redis-server bound it: with two modules' tests at
        // once, outgoing connections take ports of the same ephemeral range (a clean-clone CI lost
        // RedisClusterTest to it: 'bind: Address already in use'). Other ports, a few times.
        if (attempt >= 3) throw e;
        log.warn("{}; starting the cluster again on other ports", e.getMessage());
      }
    }
  }

  /** A node's port was taken before it could bind it. */
  static final class PortTaken extends IllegalStateException {
    PortTaken(String message) {
      super(message);
    }
  }

  private static LocalRedisCluster startOnce(Path dir, int masters, int replicas) {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < masters * (1 + replicas); i++) ports.add(nodePort(ports));
    LocalRedisCluster c = new LocalRedisCluster(dir, ports);
    long t0 = System.nanoTime();
    try {
      for (int i = 0; i < ports.size(); i++) c.launch(i);
      for (int p : ports) c.awaitPong(p);
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (int p : ports) create.add("127.0.0.1:" + p);
      create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
      String out = run(create, 60);
      if (!out.contains("[OK] All 16384 slots covered")) {
        throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
      }
      c.awaitClusterOk();
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
    log.info(
        "local Redis Cluster of {} masters on ports {} in {} ms",
        masters,
        ports,
        (System.nanoTime() - t0) / 1_000_000);
    return c;
  }

  /** A URL naming every node, for FLEET_REDIS_URL. */
  public String url() {
    StringBuilder b = new StringBuilder("redis://");
    for (int i = 0; i < ports.size(); i++) {
      if (i > 0) b.append(',');
      b.append("127.0.0.1:").append(ports.get(i));
    }
    return b.toString();
  }

  /** The nodes' ports, in start order. */
  public List<Integer> ports() {
    return List.copyOf(ports);
  }

  /** The number of keys on each node, in start order. */
  public List<Long> keysPerNode() {
    List<Long> out = new ArrayList<>();
    for (int p : ports) out.add(Long.parseLong(cli(p, "DBSIZE").strip()));
    return out;
  }

  /**
   * Kills node {@code i} with SIGKILL and starts it again on the same port and files; returns once
   * the cluster says ok again.
   */
  public void restart(int i) {
    kill(i);
    launch(i);
    awaitPong(ports.get(i));
    awaitClusterOk();
  }

  /**
   * Moves {@code slots} hash slots, with their keys, from node {@code from} to node {@code to}
   * ({@code redis-cli --cluster reshard}): clients see ASK while keys migrate and MOVED after.
   */
  public void moveSlots(int from, int to, int slots) {
    String fromId = cli(ports.get(from), "CLUSTER", "MYID").strip();
    String toId = cli(ports.get(to), "CLUSTER", "MYID").strip();
    String out =
        run(
            List.of(
                "redis-cli",
                "--cluster",
                "reshard",
                "127.0.0.1:" + ports.get(from),
                "--cluster-from",
                fromId,
                "--cluster-to",
                toId,
                "--cluster-slots",
                Integer.toString(slots),
                "--cluster-yes"),
            120);
    log.info("moved {} slots from node {} to node {}: {}", slots, from, to, out.length());
    awaitClusterOk();
  }

  /** The ports of the nodes that are primaries now. */
  public List<Integer> primaryPorts() {
    List<Integer> out = new ArrayList<>();
    for (int p : ports) {
      if (cli(p, "ROLE").startsWith("master")) out.add(p);
    }
    return out;
  }

  /**
   * Has a replica of the primary at {@code primaryPort} take over ({@code CLUSTER FAILOVER}, the
   * manual failover that waits for the replica to catch up); returns the new primary's port once it
   * is primary and the cluster says ok.
   */
  public int failover(int primaryPort) {
    String primaryId = cli(primaryPort, "CLUSTER", "MYID").strip();
    int replica = -1;
    long found = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    // A replica's own view says whom it follows; gossip may not have told the primary yet.
    while (replica < 0) {
      for (int p : ports) {
        if (p == primaryPort) continue;
        for (String line : cli(p, "CLUSTER", "NODES").split("\\R")) {
          String[] f = line.split(" ");
          if (f.length > 3
              && f[2].contains("myself")
              && f[2].contains("slave")
              && f[3].equals(primaryId)
              && cli(p, "INFO", "replication").contains("master_link_status:up")) {
            replica = p;
          }
        }
      }
      if (replica < 0) {
        if (System.nanoTime() > found) {
          throw new IllegalStateException("the primary on " + primaryPort + " has no replica");
        }
        sleep(200);
      }
    }
    String ok = cli(replica, "CLUSTER", "FAILOVER").strip();
    if (!ok.equals("OK")) throw new IllegalStateException("CLUSTER FAILOVER said " + ok);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    // Done when the replica says it is primary and the old primary that it no longer is.
    while (!cli(replica, "ROLE").startsWith("master")
        || cli(primaryPort, "ROLE").startsWith("master")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the replica on " + replica + " was not promoted");
      }
      sleep(100);
    }
    awaitClusterOk();
    log.info("failed over the primary on {} to its replica on {}", primaryPort, replica);
    return replica;
  }

  /** Kills node {@code i} with SIGKILL and waits for it to exit. */
  public void kill(int i) {
    Process p = nodes[i];
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs a redis-cli command on the node at {@code port}; returns its output. */
  public static String cli(int port, String... command) {
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
    cmd.addAll(List.of(command));
    return run(cmd, 10);
  }

  private void launch(int i) {
    int port = ports.get(i);
    Path nodeDir = dir.resolve("node-" + port);
    try {
      Files.createDirectories(nodeDir);
      nodes[i] =
          new ProcessBuilder(
                  "redis-server",
                  "--port",
                  Integer.toString(port),
                  "--bind",
                  "127.0.0.1",
                  "--cluster-enabled",
                  "yes",
                  "--cluster-config-file",
                  "nodes.conf",
                  "--cluster-node-timeout",
                  "5000",
                  "--dir",
                  nodeDir.toString(),
                  "--save",
                  "",
                  "--appendonly",
                  "yes",
                  "--appendfsync",
                  "always",
                  "--maxmemory",
                  "256mb")
              .redirectErrorStream(true)
              .redirectOutput(nodeDir.resolve("redis.log").toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start redis-server on port " + port, e);
    }
  }

  private void awaitPong(int port) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try {
        if (cli(port, "PING").strip().equals("PONG")) return;
      } catch (RuntimeException e) {
        // not up yet
      }
      if (logOf(port).contains("Address already in use")) {
        throw new PortTaken("redis-server could not bind port " + port + " (or its bus port)");
      }
      sleep(100);
    }
    throw new IllegalStateException("redis-server on port " + port + " did not answer in 20 s");
  }

  /** What node {@code port}'s redis-server wrote so far, or "". */
  private String logOf(int port) {
    Path log = dir.resolve("node-" + port).resolve("redis.log");
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private void awaitClusterOk() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      boolean ok = true;
      for (int p : ports) {
        try {
          ok &= cli(p, "CLUSTER", "INFO").contains("cluster_state:ok");
        } catch (RuntimeException e) {
          ok = false;
        }
      }
      if (ok) return;
      sleep(200);
    }
    throw new IllegalStateException("the local Redis Cluster did not reach cluster_state:ok");
  }

  private static String run(List<String> command, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A free port whose cluster bus port (10000 above it) is free too; the kernel's own pick may lie
   * above 55535, where there is no bus port.
   */
  private static int nodePort(List<Integer> taken) {
    for (int attempt = 0; attempt < 100; attempt++) {
      int p = FreePorts.next();
      if (p > 55535 || taken.contains(p)) continue;
      try (java.net.ServerSocket bus =
          new java.net.ServerSocket(p + 10000, 1, java.net.InetAddress.getLoopbackAddress())) {
        return p;
      } catch (IOException e) {
        // the bus port is taken; try another
      }
    }
    throw new IllegalStateException("found no free port pair for a Redis Cluster node");
  }

  private static Optional<Path> which(String tool) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String d : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) return Optional.of(p);
    }
    return Optional.empty();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Process p : nodes) {
      if (p != null) p.destroyForcibly();
    }
    for (Process p : nodes) {
      try {
        if (p != null) p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
