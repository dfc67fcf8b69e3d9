package io.itemfleet.embedded;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Debian's {@code redis-server} (7.x) on a free loopback port, for tests and benchmarks of what
 * needs Redis 7 (the embedded Redis is 6.2). Nothing persisted.
 */
public final class LocalRedisServer implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/redis-server");

  private final Process process;
  private final int port;

  /** A URL for FLEET_REDIS_URL. */
  public final URI url;

  private LocalRedisServer(Process process, int port) {
    this.port = port;
    this.process = process;
    this.url = URI.create("redis://127.0.0.1:" + port);
  }

  /** Why no such server can be started here, or empty. */
  public static Optional<String> missing() {
    if (!Files.isExecutable(BINARY)) {
      return Optional.of("no /usr/bin/redis-server (apt-get install redis-server)");
    }
    return Optional.empty();
  }

  public static LocalRedisServer start() throws java.io.IOException {
    int port = FreePorts.next();
    Process p =
        new ProcessBuilder(
                BINARY.toString(),
                "--port",
                Integer.toString(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (true) {
      try {
        if (LocalRedisCluster.cli(port, "PING").strip().equals("PONG")) break;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new IllegalStateException("redis-server on port " + port + " did not answer", e);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return new LocalRedisServer(p, port);
  }

  /** The server's major version. */
  public int majorVersion() {
    for (String line : LocalRedisCluster.cli(port, "INFO", "server").split("\r?\n")) {
      if (line.startsWith("redis_version:")) {
        String v = line.substring("redis_version:".length()).trim();
        return Integer.parseInt(v.substring(0, v.indexOf('.')));
      }
    }
    return 0;
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
