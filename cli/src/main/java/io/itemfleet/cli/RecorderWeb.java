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
    checkToken(token);
    Optional<String> given = token.map(String::strip).filter(t -> !t.isEmpty());
    if (given.isPresent() && beyondAscii(given.get())) {
      System.err.println(
          "fleet: warning: FLEET_API_TOKEN has letters beyond ASCII: only clients that send"
              + " headers as ISO-8859-1 can match it (curl and browsers send UTF-8)");
    }
    if (given.isPresent() && given.get().length() < MIN_TOKEN_CHARS) {
      System.err.println(
          "fleet: warning: FLEET_API_TOKEN is "
              + given.get().length()
              + " characters; use at least "
              + MIN_TOKEN_CHARS
              + " random ones (openssl rand -hex 16): nothing limits how many a client may try");
    }
    if (given.isEmpty() && !server.loopbackOnly()) {
      System.err.println(
          "fleet: warning: the API (job names, items, error messages, stack traces) is open to"
              + " anyone who can reach port "
              + server.port()
              + ", and a web page a browser on this network opens can read it through DNS"
              + " rebinding; set FLEET_API_TOKEN, or FLEET_HTTP_BIND=127.0.0.1");
    }
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

  /** Shorter tokens are accepted with a warning. */
  static final int MIN_TOKEN_CHARS = 16;

  /**
   * Why {@code token} can never be the API's, or empty. An HTTP header carries a token's bytes as
   * they are, and the JDK's server reads them as ISO-8859-1: a token with a character beyond
   * ISO-8859-1 (€, any letter past U+00FF) or a control character never matched what any client
   * sent, and every request got 401. (One with letters of U+0080 to U+00FF matches only clients
   * that send headers as ISO-8859-1: it gets a warning.)
   */
  static Optional<String> tokenProblem(String token) {
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x20 && c != '\t' || c == 0x7f || c > 0xff) {
        return Optional.of(
            "FLEET_API_TOKEN has a character at index "
                + i
                + " (a control character, or one beyond ISO-8859-1) that no HTTP header"
                + " carries as it is, so no request could ever match it; use letters, digits and"
                + " punctuation (openssl rand -hex 16)");
      }
    }
    return Optional.empty();
  }

  /** True when {@code token} has letters of U+0080 to U+00FF, which most clients send as UTF-8. */
  static boolean beyondAscii(String token) {
    return token.chars().anyMatch(c -> c > 0x7e);
  }

  /**
   * Checks FLEET_API_TOKEN as {@link #serve} will, for a command to call before it starts anything
   * else; throws the {@link CliFailure} serve would.
   */
  static void checkToken(Optional<String> token) {
    token
        .map(String::strip)
        .filter(t -> !t.isEmpty())
        .flatMap(RecorderWeb::tokenProblem)
        .ifPresent(
            p -> {
              throw new CliFailure(2, p);
            });
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
