package io.itemfleet.worker;

import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import redis.clients.jedis.Jedis;

/**
 * Debian's {@code redis-server} (7.x) on a free port, for tests of what needs Redis 7 (the test
 * kit's embedded Redis is 6.2). Nothing persisted.
 */
final class Redis7Server implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/redis-server");

  private final Process process;
  final URI url;

  private Redis7Server(Process process, URI url) {
    this.process = process;
    this.url = url;
  }

  /** Why no such server can be started here, or empty. */
  static Optional<String> missing() {
    if (!Files.isExecutable(BINARY)) {
      return Optional.of("no /usr/bin/redis-server (apt-get install redis-server)");
    }
    return Optional.empty();
  }

  static Redis7Server start() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
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
    URI url = URI.create("redis://127.0.0.1:" + port);
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () -> {
              try (Jedis j = new Jedis(url)) {
                return "PONG".equals(j.ping());
              }
            });
    return new Redis7Server(p, url);
  }

  /** The server's major version. */
  int majorVersion() {
    try (Jedis j = new Jedis(url)) {
      return RedisClients.majorVersion(j.info("server"));
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
