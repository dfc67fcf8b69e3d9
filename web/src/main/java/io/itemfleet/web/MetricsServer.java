package io.itemfleet.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Serves {@code /metrics} (Prometheus text) and {@code /health} (200 or 503) on FLEET_METRICS_PORT.
 */
public final class MetricsServer implements AutoCloseable {
  /** The HTTP server. */
  private final HttpServer server;

  /** Most requests served at once. */
  static final int MAX_THREADS = 32;

  /**
   * How long a request may take to arrive whole, head and body. The JDK's server reads a request on
   * one of the pool's threads and by default waits for it for ever, so 32 connections that each
   * sent one byte held every thread, and /live, /health, /metrics and the API stopped answering for
   * good. After this long the server closes such a connection and the thread is free again.
   */
  static final long MAX_REQUEST_SECONDS = 10;

  /** The JDK's setting for that, in seconds; read once, as the process creates its first server. */
  static final String MAX_REQUEST_PROPERTY = "sun.net.httpserver.maxReqTime";

  /**
   * How long a response may take to be sent whole. A thread writing a response blocks while the
   * client does not read it, and the JDK's server waits for ever by default: 32 clients asking for
   * a large answer (the API's job list) and never reading it held every thread, as slow requests
   * did. After this long the server closes the connection and the thread is free again.
   */
  static final long MAX_RESPONSE_SECONDS = 30;

  /** The JDK's setting for that, in seconds; read once, as the process creates its first server. */
  static final String MAX_RESPONSE_PROPERTY = "sun.net.httpserver.maxRspTime";

  static {
    limitRequestTime();
  }

  /**
   * Sets {@link #MAX_REQUEST_SECONDS} and {@link #MAX_RESPONSE_SECONDS} as the JDK server's request
   * and response time limits unless the JVM was given its own ({@code
   * -Dsun.net.httpserver.maxReqTime=S}, {@code -Dsun.net.httpserver.maxRspTime=S}). Called before
   * the process creates any HTTP server (the CLI's main does, first); idempotent.
   */
  public static void limitRequestTime() {
    if (System.getProperty(MAX_REQUEST_PROPERTY) == null) {
      System.setProperty(MAX_REQUEST_PROPERTY, Long.toString(MAX_REQUEST_SECONDS));
    }
    if (System.getProperty(MAX_RESPONSE_PROPERTY) == null) {
      System.setProperty(MAX_RESPONSE_PROPERTY, Long.toString(MAX_RESPONSE_SECONDS));
    }
  }

  /** The threads that serve it; stopped with it. */
  private final ExecutorService threads;

  private MetricsServer(HttpServer server, ExecutorService threads) {
    this.server = server;
    this.threads = threads;
  }

  /** Serves on every interface, as Prometheus exporters do. */
  public static MetricsServer start(
      int port, PrometheusMeterRegistry registry, BooleanSupplier healthy) {
    return start("0.0.0.0", port, registry, healthy);
  }

  /**
   * Serves on {@code bind} (FLEET_HTTP_BIND: {@code 0.0.0.0} for every interface, {@code 127.0.0.1}
   * for this machine only). Only GET and HEAD are served; other methods get 405.
   */
  public static MetricsServer start(
      String bind, int port, PrometheusMeterRegistry registry, BooleanSupplier healthy) {
    return start(bind, port, registry, healthy, () -> true);
  }

  /**
   * As above, with {@code /live} answering 200 while {@code live} holds, else 503: for a liveness
   * probe, which must not fail for what the process waits out by itself (what {@code /health}
   * reports), only for what a restart cures.
   */
  public static MetricsServer start(
      String bind,
      int port,
      PrometheusMeterRegistry registry,
      BooleanSupplier healthy,
      BooleanSupplier live) {
    try {
      HttpServer s = HttpServer.create(new InetSocketAddress(bind, port), 0);
      s.createContext(
          "/metrics",
          readOnly(
              ex ->
                  respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape())));
      s.createContext("/health", probe(healthy, "unhealthy\n"));
      s.createContext("/live", probe(live, "not live\n"));
      // Platform threads, not virtual ones: handlers run on virtual threads, which are never
      // preempted, and a few spinning on the CPU can hold every carrier; /health and /metrics
      // (fleet_handlers_overdue) must answer then. Up to 32 requests at once (the recorder's
      // page and API are served here too), more wait their turn; idle threads end after 30 s.
      ThreadPoolExecutor threads =
          new ThreadPoolExecutor(
              MAX_THREADS,
              MAX_THREADS,
              30,
              TimeUnit.SECONDS,
              new LinkedBlockingQueue<>(),
              Thread.ofPlatform().daemon().name("fleet-http-", 0).factory());
      threads.allowCoreThreadTimeOut(true);
      s.setExecutor(threads);
      s.start();
      return new MetricsServer(s, threads);
    } catch (IOException | IllegalArgumentException e) {
      throw new UncheckedIOException(
          "cannot serve HTTP on "
              + bind
              + ":"
              + port
              + " (FLEET_HTTP_BIND, FLEET_METRICS_PORT): "
              + e.getMessage(),
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  /** A probe: 200 "ok" while {@code ok} holds, else 503 with {@code otherwise}. */
  private static com.sun.net.httpserver.HttpHandler probe(BooleanSupplier ok, String otherwise) {
    return readOnly(
        ex -> {
          boolean up = ok.getAsBoolean();
          respond(ex, up ? 200 : 503, "text/plain", up ? "ok\n" : otherwise);
        });
  }

  /**
   * Most requests of the routes a process adds (the recorder's API and page) served at once; more
   * get 503 at once. The rest of the {@link #MAX_THREADS} threads stay for /live, /health and
   * /metrics: before, 32 slow API requests (large jobs, dry runs of large replays) held every
   * thread, and the liveness probe restarted the recorder in a loop.
   */
  public static final int MAX_ROUTED_AT_ONCE = MAX_THREADS / 2;

  /**
   * {@code handler}, answering 503 (with {@code Retry-After: 1}) while {@code slots} has no permit
   * left; one permit per request being served.
   */
  public static com.sun.net.httpserver.HttpHandler limited(
      java.util.concurrent.Semaphore slots, com.sun.net.httpserver.HttpHandler handler) {
    return ex -> {
      if (!slots.tryAcquire()) {
        ex.getResponseHeaders().set("Retry-After", "1");
        respond(
            ex,
            503,
            "text/plain",
            "busy: " + MAX_ROUTED_AT_ONCE + " requests are being answered; try again\n");
        return;
      }
      try {
        handler.handle(ex);
      } finally {
        slots.release();
      }
    };
  }

  /** {@code handler} for GET and HEAD; 405 (with {@code Allow}) for every other method. */
  public static com.sun.net.httpserver.HttpHandler readOnly(
      com.sun.net.httpserver.HttpHandler handler) {
    return ex -> {
      String m = ex.getRequestMethod();
      if (m.equals("GET") || m.equals("HEAD")) {
        handler.handle(ex);
        return;
      }
      ex.getResponseHeaders().set("Allow", "GET, HEAD");
      respond(ex, 405, "text/plain", "only GET and HEAD are served here\n");
    };
  }

  /**
   * Serves {@code path} (and below) with {@code handler} too, e.g. an API beside the metrics; GET
   * and HEAD only.
   */
  public void route(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(path, readOnly(handler));
  }

  /**
   * Serves {@code path} (and below) with {@code handler}, which also receives POST requests and
   * must refuse those it does not serve; other methods get 405.
   */
  public void routeWithPost(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(
        path,
        ex -> {
          if (ex.getRequestMethod().equals("POST")) {
            handler.handle(ex);
          } else {
            readOnly(handler).handle(ex);
          }
        });
  }

  /** True when it listens on a loopback address only (127.0.0.1, ::1): this machine's clients. */
  public boolean loopbackOnly() {
    return server.getAddress().getAddress().isLoopbackAddress();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(code, -1); // headers only
      ex.close();
      return;
    }
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
