package io.itemfleet.recorder;

/**
 * A PostgreSQL connection: FLEET_DB_URL, FLEET_DB_USER, FLEET_DB_PASSWORD.
 *
 * @param url {@code jdbc:postgresql://host:port/database}
 */
public record DbSettings(String url, String user, String password) {
  public DbSettings {
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException(
          "FLEET_DB_URL must look like jdbc:postgresql://host:port/database, was '"
              + io.itemfleet.schemas.Redaction.text(url)
              + "'");
    }
    password = password == null ? "" : password;
  }

  /** The database name in the URL. */
  public String database() {
    String rest = url.substring("jdbc:postgresql://".length());
    int slash = rest.indexOf('/');
    if (slash < 0) return "postgres";
    String db = rest.substring(slash + 1);
    int q = db.indexOf('?');
    return q < 0 ? db : db.substring(0, q);
  }

  /** The same server's {@code postgres} maintenance database. */
  public DbSettings maintenance() {
    int slash = url.indexOf('/', "jdbc:postgresql://".length());
    int q = url.indexOf('?');
    String head =
        slash < 0 ? (q < 0 ? url : url.substring(0, q)) + "/" : url.substring(0, slash + 1);
    return new DbSettings(head + "postgres" + (q < 0 ? "" : url.substring(q)), user, password);
  }

  /** The URL and user, as shown in logs and errors: secrets in the URL masked, no password. */
  @Override
  public String toString() {
    return io.itemfleet.schemas.Redaction.text(url) + " as " + user;
  }
}
