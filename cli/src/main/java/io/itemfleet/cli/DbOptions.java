package io.itemfleet.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Option;

/** The recorder's PostgreSQL: FLEET_DB_URL, FLEET_DB_USER, FLEET_DB_PASSWORD. */
final class DbOptions {
  @Option(
      names = "--db-url",
      defaultValue = "${env:FLEET_DB_URL:-jdbc:postgresql://localhost:5432/fleet}",
      description = "The recorder's PostgreSQL (env FLEET_DB_URL, default ${DEFAULT-VALUE}).")
  String url;

  @Option(
      names = "--db-user",
      defaultValue = "${env:FLEET_DB_USER:-postgres}",
      description = "Database user (env FLEET_DB_USER, default ${DEFAULT-VALUE}).")
  String user;

  @Option(
      names = "--db-password",
      defaultValue = "${env:FLEET_DB_PASSWORD}",
      description = "Database password (env FLEET_DB_PASSWORD).")
  String password;

  DbSettings settings() {
    SecretFlags.password(System.err, "--db-password", password, "FLEET_DB_PASSWORD");
    SecretFlags.url(System.err, "--db-url", url, "FLEET_DB_URL");
    try {
      return new DbSettings(url, user, password);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /**
   * A small pool for a CLI read, checked at once: an unreachable or missing database is a clear
   * error (exit 3), not a stack trace.
   */
  HikariDataSource openForReading() {
    DbSettings db = settings();
    HikariDataSource ds = LedgerDatabase.pool(db, 2, "fleet-cli");
    try (Connection c = ds.getConnection()) {
      if (!c.getMetaData().getTables(null, null, "fleet_jobs", null).next()) {
        ds.close();
        throw new CliFailure(
            3,
            "no ItemFleet ledger in "
                + io.itemfleet.schemas.Redaction.text(db.url())
                + " (has `fleet recorder` run against this database yet?)");
      }
      return ds;
    } catch (SQLException e) {
      ds.close();
      Throwable cause = e;
      while (cause.getCause() != null)
        cause = cause.getCause(); // the driver's reason, not the pool's
      throw new CliFailure(
          3,
          "cannot reach PostgreSQL at "
              + db
              + ": "
              + io.itemfleet.schemas.Redaction.text(cause.getMessage()));
    }
  }
}
