package io.itemfleet.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
  /**
   * Handlers run on virtual threads, which are never preempted: as many of them spinning on the CPU
   * as the scheduler has carriers (one per core) pinned every carrier, and /health and /metrics,
   * served on virtual threads too, stopped answering — just when an operator needs
   * fleet_handlers_overdue. They are served on platform threads of their own now.
   */
  @Test
  void healthAndMetricsAnswerWhileSpinningVirtualThreadsHoldEveryCarrier() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean spin = new AtomicBoolean(true);
    List<Thread> spinners = new ArrayList<>();
    try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry, () -> true)) {
      int carriers =
          Integer.getInteger(
              "jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
      for (int i = 0; i < carriers; i++) {
        spinners.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      long x = 0;
                      while (spin.get()) x += System.nanoTime() % 7;
                    }));
      }
      Thread.sleep(200); // every carrier is busy now
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      for (String path : List.of("/health", "/metrics")) {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                    .timeout(Duration.ofSeconds(3))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
      }
    } finally {
      spin.set(false);
      for (Thread t : spinners) t.join(5_000);
    }
  }

  @Test
  void liveAnswersWhatItsSupplierSaysAndHealthIsApart() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean live = new AtomicBoolean(true);
    try (MetricsServer server =
        MetricsServer.start("127.0.0.1", 0, registry, () -> false, live::get)) {
      HttpClient client = HttpClient.newHttpClient();
      assertThat(status(client, server, "/live")).isEqualTo(200);
      assertThat(status(client, server, "/health")).isEqualTo(503);
      live.set(false);
      assertThat(status(client, server, "/live")).isEqualTo(503);
    }
  }

  private static int status(HttpClient client, MetricsServer server, String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
