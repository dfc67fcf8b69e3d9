package io.itemfleet.recorder;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the ledger database: creates it if missing and permitted, migrates it, pools connections.
 */
public final class LedgerDatabase {
  private static final Logger log = LoggerFactory.getLogger(LedgerDatabase.class);

  private LedgerDatabase() {}

  /** A pool for the recorder or the CLI; {@code reWriteBatchedInserts} makes batches multi-row. */
  public static HikariDataSource pool(DbSettings db, int size, String name) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(db.url());
    c.setUsername(db.user());
    c.setPassword(db.password());
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(0);
    c.setPoolName(name);
    c.setAutoCommit(true);
    c.setConnectionTimeout(5_000);
    c.setInitializationFailTimeout(-1); // start without a database; calls fail until it is back
    c.addDataSourceProperty("reWriteBatchedInserts", "true");
    c.addDataSourceProperty("ApplicationName", name);
    return new HikariDataSource(c);
  }

  /**
   * Creates the database named in the URL when it does not exist, through the server's {@code
   * postgres} database. Needs the CREATEDB privilege; without it, says what to do.
   */
  public static void ensureExists(DbSettings db) throws SQLException {
    try (Connection c = connect(db)) {
      return; // it exists
    } catch (SQLException e) {
      if (!"3D000".equals(e.getSQLState())) throw e; // 3D000: invalid_catalog_name
    }
    String name = db.database();
    try (Connection c = connect(db.maintenance());
        PreparedStatement q = c.prepareStatement("select 1 from pg_database where datname = ?")) {
      q.setString(1, name);
      try (ResultSet r = q.executeQuery()) {
        if (r.next()) return;
      }
      try (Statement s = c.createStatement()) {
        s.execute("create database \"" + name.replace("\"", "\"\"") + "\"");
        log.info("created database {}", name);
      } catch (SQLException e) {
        if ("42P04".equals(e.getSQLState())) return; // created meanwhile by another recorder
        throw new SQLException(
            "database '"
                + name
                + "' does not exist and user '"
                + db.user()
                + "' may not create it ("
                + e.getMessage()
                + "); create it with: createdb "
                + name,
            e.getSQLState(),
            e);
      }
    }
  }

  /** Applies the versioned migrations in {@code db/migration/recorder}. */
  public static int migrate(DataSource ds) {
    var result =
        Flyway.configure()
            .dataSource(ds)
            .locations("classpath:db/migration/recorder")
            .table("fleet_schema_history")
            .baselineOnMigrate(false)
            // Version 6 was withdrawn (see V7): a ledger that applied it must still start.
            .ignoreMigrationPatterns("*:missing")
            .load()
            .migrate();
    if (result.migrationsExecuted > 0) {
      log.info(
          "ledger schema migrated to version {} ({} migrations)",
          result.targetSchemaVersion,
          result.migrationsExecuted);
    }
    return result.migrationsExecuted;
  }

  private static Connection connect(DbSettings db) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", db.user());
    p.setProperty("password", db.password());
    p.setProperty("connectTimeout", "5");
    return DriverManager.getConnection(db.url(), p);
  }
}
