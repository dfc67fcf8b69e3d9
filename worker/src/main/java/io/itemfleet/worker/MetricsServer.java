package io.itemfleet.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * Serves {@code /metrics} (Prometheus text) and {@code /health} (200 or 503) on FLEET_METRICS_PORT.
 */
public final class MetricsServer implements AutoCloseable {
  /** The HTTP server. */
  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  public static MetricsServer start(
      int port, PrometheusMeterRegistry registry, BooleanSupplier healthy) {
    try {
      HttpServer s = HttpServer.create(new InetSocketAddress(port), 0);
      s.createContext(
          "/metrics",
          ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
      s.createContext(
          "/health",
          ex -> {
            boolean ok = healthy.getAsBoolean();
            respond(ex, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "unhealthy\n");
          });
      s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      s.start();
      return new MetricsServer(s);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve metrics on port " + port + " (FLEET_METRICS_PORT): " + e.getMessage(), e);
    }
  }

  /** Serves {@code path} (and below) with {@code handler} too, e.g. an API beside the metrics. */
  public void route(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(path, handler);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
