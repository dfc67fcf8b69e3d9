package io.itemfleet.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.RetryPolicy;
import io.itemfleet.worker.config.TaskSettings;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HttpHandlerTest {
  private HttpServer server;
  private final AtomicLong written = new AtomicLong();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/huge",
        x -> {
          x.sendResponseHeaders(200, 0); // chunked, 64 MiB if read to the end
          byte[] chunk = new byte[64 * 1024];
          try (OutputStream out = x.getResponseBody()) {
            for (int i = 0; i < 1024; i++) {
              out.write(chunk);
              written.addAndGet(chunk.length);
            }
          } catch (java.io.IOException closedByClient) {
            // expected: the handler stops reading at its cap
          }
        });
    server.createContext(
        "/busy",
        x -> {
          x.getResponseHeaders().add("Retry-After", "-30");
          x.sendResponseHeaders(503, -1);
          x.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private HandlerResult post(String path, int max) throws InterruptedException {
    URI url = URI.create("http://user:SECRET@127.0.0.1:" + server.getAddress().getPort() + path);
    TaskMessage t = TaskMessage.of("j", "t", "i");
    return new HttpHandler(url, Map.of(), max).handle(TaskView.of(t));
  }

  @Test
  void bodyOverTheCapFailsClearlyWithoutReadingItAll() throws Exception {
    HandlerResult r = post("/huge", 1 << 20);
    assertThat(r)
        .isInstanceOfSatisfying(
            HandlerResult.Failed.class,
            f -> {
              assertThat(f.errorClass()).isEqualTo("http.body_too_large");
              assertThat(f.message()).contains("maxResponseBytes (1048576)");
            });
    Thread.sleep(200);
    assertThat(written.get()).isLessThan(32L << 20);
  }

  @Test
  void credentialsInTheUrlNeverReachTheMessageAndNegativeRetryAfterIsIgnored() throws Exception {
    HandlerResult r = post("/busy", 1024);
    assertThat(r)
        .isInstanceOfSatisfying(
            HandlerResult.Retry.class,
            x -> {
              assertThat(x.message()).contains("//***@127.0.0.1").doesNotContain("SECRET");
              // -30 s is kept as asked; the retry policy lifts it to the configured delay
              assertThat(
                      RetryPolicy.requestedDelay(
                          TaskSettings.DEFAULTS, 1, x.after().orElseThrow(), () -> 0.5))
                  .isEqualTo(Duration.ofSeconds(5));
            });
  }
}
