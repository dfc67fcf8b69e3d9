package io.itemfleet.worker;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * Where Redis is, from {@code FLEET_REDIS_URL}: one server ({@code
 * redis://[user:pass@]host:port[/db]}, {@code rediss://} for TLS) or any nodes of a Redis Cluster,
 * several separated by commas ({@code redis://[user:pass@]host1:port1,host2:port2}, or whole URLs
 * separated by commas). Whether it is a cluster is asked of the server ({@code INFO cluster}), not
 * configured.
 */
public final class RedisClients {
  private RedisClients() {}

  /** Timeout of connects and replies. */
  static final int TIMEOUT_MILLIS = 5_000;

  /**
   * Reads a {@code FLEET_REDIS_URL} value. Several comma-separated URLs become one URI naming
   * several nodes, with the first one's scheme and credentials.
   *
   * @throws IllegalArgumentException with the reason when it is not such a URL
   */
  public static URI parse(String text) {
    String t = text.strip();
    String[] parts = t.split(",");
    if (parts.length > 1) {
      StringBuilder b = new StringBuilder(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].strip();
        int scheme = p.indexOf("://");
        if (scheme >= 0) p = p.substring(scheme + 3);
        int at = p.lastIndexOf('@');
        if (at >= 0) p = p.substring(at + 1);
        int slash = p.indexOf('/');
        if (slash >= 0) p = p.substring(0, slash);
        b.append(',').append(p);
      }
      t = b.toString();
    }
    URI u;
    try {
      u = new URI(t);
    } catch (java.net.URISyntaxException e) {
      // Not e.getMessage(): it ends with the whole input, password and all.
      throw new IllegalArgumentException(
          "not a Redis URL: "
              + e.getReason()
              + " at index "
              + e.getIndex()
              + " (the URL is not shown, as it may hold a password; characters such as ^, space,"
              + " / or # in a password must be percent-encoded)");
    }
    if (!"redis".equals(u.getScheme()) && !"rediss".equals(u.getScheme()) && !sentinel(u)) {
      throw new IllegalArgumentException(
          "a Redis URL starts with redis://, rediss:// or redis-sentinel://, not "
              + u.getScheme()
              + "://");
    }
    nodes(u); // checks each host:port
    if (sentinel(u)) masterName(u);
    return u;
  }

  /** True for a {@code redis-sentinel://} or {@code rediss-sentinel://} URL. */
  public static boolean sentinel(URI url) {
    return "redis-sentinel".equals(url.getScheme()) || "rediss-sentinel".equals(url.getScheme());
  }

  /** The master name of a Sentinel URL: its path. */
  static String masterName(URI url) {
    String path = url.getPath() == null ? "" : url.getPath();
    String name = path.startsWith("/") ? path.substring(1) : path;
    if (name.isEmpty() || name.contains("/")) {
      throw new IllegalArgumentException(
          "a Sentinel URL names its primary: redis-sentinel://sentinel1:26379,sentinel2:26379/mymaster");
    }
    return name;
  }

  /**
   * The primary's address now, as the first Sentinel that knows it says ({@code SENTINEL
   * get-master-addr-by-name}).
   *
   * @throws JedisException when no Sentinel answers or none knows the name
   */
  static HostAndPort currentMaster(URI url) {
    String name = masterName(url);
    JedisClientConfig cfg = sentinelConfig(url);
    JedisException last =
        new JedisException("no Sentinel of " + url.getRawAuthority() + " answered");
    for (HostAndPort s : nodes(url)) {
      try (Jedis j = new Jedis(s, cfg)) {
        List<String> addr = j.sentinelGetMasterAddrByName(name);
        if (addr != null && addr.size() == 2) {
          return new HostAndPort(addr.get(0), Integer.parseInt(addr.get(1)));
        }
        last = new JedisException("Sentinel " + s + " knows no primary named " + name);
      } catch (JedisException e) {
        last = e;
      }
    }
    throw last;
  }

  /** The settings for talking to the Sentinels themselves: TLS as the URL says, no credentials. */
  private static JedisClientConfig sentinelConfig(URI url) {
    return DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis(TIMEOUT_MILLIS)
        .socketTimeoutMillis(TIMEOUT_MILLIS)
        .ssl("rediss-sentinel".equals(url.getScheme()))
        .build();
  }

  /** The nodes a URL names: one, or several separated by commas. */
  public static List<HostAndPort> nodes(URI url) {
    String authority = url.getRawAuthority();
    if (authority == null || authority.isBlank()) {
      throw new IllegalArgumentException("a Redis URL names a host: redis://host:6379");
    }
    int at = authority.lastIndexOf('@');
    String hosts = at >= 0 ? authority.substring(at + 1) : authority;
    List<HostAndPort> out = new ArrayList<>();
    for (String h : hosts.split(",")) {
      String s = h.strip();
      if (s.isEmpty()) continue;
      int colon = s.lastIndexOf(':');
      try {
        out.add(
            colon < 0
                ? new HostAndPort(s, 6379)
                : new HostAndPort(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1))));
      } catch (NumberFormatException e) {
        // Not s: a password holding '/' ends the authority early, and s is then part of it.
        throw new IllegalArgumentException(
            "not a port in the Redis URL (the URL is not shown, as it may hold a password; a"
                + " password holding /, ? or # must be percent-encoded)");
      }
    }
    if (out.isEmpty()) throw new IllegalArgumentException("a Redis URL names a host");
    return out;
  }

  /** The connection settings of a URL: credentials, TLS, database, timeouts. */
  static JedisClientConfig config(URI url) {
    URI first = firstNode(url);
    boolean sentinel = sentinel(url);
    DefaultJedisClientConfig.Builder b =
        DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(TIMEOUT_MILLIS)
            .socketTimeoutMillis(TIMEOUT_MILLIS)
            .ssl(
                sentinel
                    ? "rediss-sentinel".equals(url.getScheme())
                    : JedisURIHelper.isRedisSSLScheme(first));
    String user = JedisURIHelper.getUser(first);
    String password = JedisURIHelper.getPassword(first);
    if (user != null) b.user(user);
    if (password != null) b.password(password);
    // A Sentinel URL's path is the primary's name, not a database number.
    if (!sentinel && JedisURIHelper.hasDbIndex(first)) {
      b.database(JedisURIHelper.getDBIndex(first));
    }
    return b.build();
  }

  /** The URL with only its first node, for a single connection. */
  static URI firstNode(URI url) {
    String authority = url.getRawAuthority();
    int comma = authority == null ? -1 : authority.indexOf(',');
    if (comma < 0) return url;
    return URI.create(
        url.getScheme()
            + "://"
            + authority.substring(0, comma)
            + (url.getRawPath() == null ? "" : url.getRawPath()));
  }

  /**
   * What the first node that answers says of itself.
   *
   * @param cluster true for a cluster node ({@code cluster_enabled:1})
   * @param majorVersion the server's major version; 0 when it does not say
   */
  public record Probe(boolean cluster, int majorVersion) {}

  /**
   * Asks the nodes in turn until one answers.
   *
   * @throws JedisException when no node answers
   */
  public static Probe probe(URI url) {
    JedisClientConfig cfg = config(url);
    JedisException last = null;
    for (HostAndPort n : sentinel(url) ? List.of(currentMaster(url)) : nodes(url)) {
      try (Jedis j = new Jedis(n, cfg)) {
        return new Probe(
            j.info("cluster").contains("cluster_enabled:1"), majorVersion(j.info("server")));
      } catch (JedisException e) {
        last = e;
      }
    }
    throw last;
  }

  /** The server's major version from {@code INFO server}; 0 when it does not say. */
  static int majorVersion(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("redis_version:")) {
        String v = line.substring("redis_version:".length()).trim();
        int dot = v.indexOf('.');
        try {
          return Integer.parseInt(dot < 0 ? v : v.substring(0, dot));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /**
   * A client for the URL: a pooled one for a single server, a cluster client (which follows slots,
   * MOVED and ASK) for a cluster.
   */
  public static UnifiedJedis open(URI url) {
    if (sentinel(url)) {
      return RedisSentinelClient.builder()
          .masterName(masterName(url))
          .sentinels(new LinkedHashSet<>(nodes(url)))
          .clientConfig(config(url))
          .sentinelClientConfig(sentinelConfig(url))
          .build();
    }
    if (probe(url).cluster()) return cluster(url);
    if (nodes(url).size() > 1) {
      throw new IllegalArgumentException(
          "the Redis URL names "
              + nodes(url).size()
              + " nodes, but "
              + nodes(url).get(0)
              + " is not in cluster mode; name one server, or the nodes of a Redis Cluster");
    }
    return RedisClient.builder().hostAndPort(nodes(url).get(0)).clientConfig(config(url)).build();
  }

  /** A cluster client seeded with every node the URL names. */
  static RedisClusterClient cluster(URI url) {
    Set<HostAndPort> seeds = new LinkedHashSet<>(nodes(url));
    return RedisClusterClient.builder()
        .nodes(seeds)
        .clientConfig(config(url))
        .maxAttempts(5)
        .build();
  }

  /**
   * Loads a script on every node of a cluster that answers (a failover's new primary then has it
   * too); a node that does not is skipped (a primary that missed it answers NOSCRIPT later, and the
   * gate loads the scripts again then).
   */
  static String loadEverywhere(RedisClusterClient c, String script) {
    String sha = null;
    for (var e : c.getClusterNodes().entrySet()) {
      try (Connection conn = e.getValue().getResource()) {
        sha = new Jedis(conn).scriptLoad(script);
      } catch (JedisException ex) {
        org.slf4j.LoggerFactory.getLogger(RedisClients.class)
            .info("cluster node {} did not take the scripts: {}", e.getKey(), ex.toString());
      }
    }
    if (sha == null) throw new JedisException("no cluster node took the scripts");
    return sha;
  }

  /**
   * A reply of a synced pipeline. A cluster pipeline leaves the replies of a node it could not
   * reach unset (Jedis logs the node's error) and reading one throws a misleading "Please close
   * pipeline" {@link IllegalStateException}; this turns it into the Redis failure it is.
   */
  public static <T> T read(java.util.function.Supplier<T> reply) {
    try {
      return reply.get();
    } catch (IllegalStateException e) {
      throw new redis.clients.jedis.exceptions.JedisConnectionException(
          "a node of the Redis Cluster did not answer (its error is logged above)");
    }
  }
}
