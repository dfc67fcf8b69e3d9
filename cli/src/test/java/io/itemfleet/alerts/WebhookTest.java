package io.itemfleet.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** What a webhook receiver can do to a delivery. */
class WebhookTest {
  private static final Alert ALERT = alertAt(Instant.parse("2026-11-30T00:00:00Z"));

  /** An alert of one failure at {@code at}. */
  private static Alert alertAt(Instant at) {
    return new Alert(
        Alert.Kind.FIRST,
        "j",
        "t",
        "fp",
        "api.gone",
        "not found",
        1,
        List.of("i"),
        at,
        at,
        "fleet failures j");
  }

  /**
   * A receiver (or a proxy) that answers 200 and then never finishes its body: the request's
   * time-out covers only the wait for headers, so the delivery waited for ever while the alerter
   * looked healthy. It now fails after its whole-delivery deadline, and is retried as any failure.
   */
  @Test
  @org.junit.jupiter.api.Timeout(
      value = 60,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void aReceiverThatNeverFinishesItsAnswerFailsTheDeliveryInTime() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext(
        "/hook",
        ex -> {
          ex.getRequestBody().readAllBytes();
          ex.sendResponseHeaders(200, 0); // chunked: a body follows, and never ends
          ex.getResponseBody().write('x');
          ex.getResponseBody().flush();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.close();
        });
    server.start();
    try {
      Webhook hook =
          new Webhook(
              URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook"),
              WebhookFormat.GENERIC,
              Duration.ofSeconds(2));
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> hook.post(List.of(ALERT)))
          .isInstanceOf(Webhook.DeliveryFailed.class)
          .hasMessageContaining("no complete answer within");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  /**
   * A failure event's time comes from whoever wrote it (any Kafka client, or a worker whose clock
   * runs fast): an Alertmanager alert starting in the future ends before it starts (Alertmanager
   * gives it now + resolve_timeout) and is refused, so the alerter retried it for ever. It starts
   * no later than now.
   */
  @Test
  void anAlertmanagerAlertNeverStartsInTheFuture() throws Exception {
    Alert future = alertAt(Instant.parse("9999-12-31T23:59:59Z"));
    Instant before = Instant.now();
    var body = new ObjectMapper().readTree(WebhookFormat.ALERTMANAGER.body(List.of(future, ALERT)));
    Instant starts = Instant.parse(body.get(0).get("startsAt").asText());
    assertThat(starts).isBetween(before, Instant.now());
    assertThat(body.get(1).get("startsAt").asText()).isEqualTo("2026-11-30T00:00:00Z");
  }
}
