package io.itemfleet.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/** A real redis-server process (bundled by embedded-redis) on a free loopback port. */
public final class EmbeddedRedisServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedRedisServer.class);

  /** The running server process. */
  private final RedisServer server;

  /** The port it listens on. */
  private final int port;

  private EmbeddedRedisServer(RedisServer server, int port) {
    this.server = server;
    this.port = port;
  }

  /** Attempts before giving up when the extracted binary is still "busy" (see below). */
  private static final int START_ATTEMPTS = 5;

  /** Starts a server on a free port; {@code port} 0 picks one. Nothing is persisted to disk. */
  public static EmbeddedRedisServer start(int port) {
    int p = port == 0 ? FreePorts.next() : port;
    long t0 = System.nanoTime();
    RedisServer server;
    for (int attempt = 1; ; attempt++) {
      try {
        server =
            RedisServer.newRedisServer()
                .port(p)
                .bind("127.0.0.1")
                .setting("save \"\"")
                .setting("appendonly no")
                .setting("maxmemory 512mb")
                .build();
        server.start();
        break;
      } catch (IOException e) {
        // embedded-redis writes redis-server to a temporary file and executes it. If another
        // thread of this JVM forks a process in between, the child briefly inherits the open
        // write handle and exec fails with ETXTBSY ("Text file busy"); a fresh copy a moment
        // later succeeds.
        if (attempt < START_ATTEMPTS && textFileBusy(e)) {
          log.info("embedded Redis binary busy (attempt {}), trying again", attempt);
          sleep(100L * attempt);
          continue;
        }
        throw new UncheckedIOException("embedded Redis did not start on port " + p, e);
      }
    }
    log.info(
        "embedded Redis started on 127.0.0.1:{} in {} ms", p, (System.nanoTime() - t0) / 1_000_000);
    return new EmbeddedRedisServer(server, p);
  }

  private static boolean textFileBusy(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("Text file busy")) return true;
    }
    return false;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting embedded Redis", e);
    }
  }

  public int port() {
    return port;
  }

  /** A URL for FLEET_REDIS_URL. */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (IOException e) {
      log.warn("embedded Redis on port {} did not stop cleanly: {}", port, e.toString());
    }
  }
}
