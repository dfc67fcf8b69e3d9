package io.itemfleet.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.recorder.ConsoleQueries;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.web.MetricsServer;
import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * The recorder's web side on a {@link MetricsServer}: the JSON API, the console page, replay and
 * the workers' view, with the database pool and the Kafka admin client they use. One wiring for
 * {@code fleet recorder}, {@code fleet local} and the benchmarks; close it to release both.
 */
public final class RecorderWeb implements AutoCloseable {
  private final HikariDataSource pool;
  private final FleetView fleet;

  /**
   * @param token the bearer token of {@code /api/} (and what replay needs); empty: open, no replay
   * @param redis where replay checks done markers; empty: no check
   */
  public static RecorderWeb serve(
      MetricsServer server,
      DbSettings db,
      Map<String, Object> kafka,
      FleetTopics topics,
      Optional<String> token,
      Optional<URI> redis) {
    HikariDataSource pool = LedgerDatabase.pool(db, 2, "fleet-api");
    FleetView fleet;
    try {
      fleet = new FleetView(kafka, topics);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    LedgerQueries queries = new LedgerQueries(pool);
    RecorderApi.serve(
        server,
        queries,
        token,
        Optional.of(
            new Replayer(
                queries,
                kafka,
                topics,
                redis,
                io.itemfleet.worker.MarkerLayout.parse(
                    System.getenv().getOrDefault("FLEET_REDIS_MARKERS", "keys")))),
        Optional.of(new ConsoleApi(queries, new ConsoleQueries(pool), Optional.of(fleet))));
    return new RecorderWeb(pool, fleet);
  }

  private RecorderWeb(HikariDataSource pool, FleetView fleet) {
    this.pool = pool;
    this.fleet = fleet;
  }

  @Override
  public void close() {
    fleet.close();
    pool.close();
  }
}
