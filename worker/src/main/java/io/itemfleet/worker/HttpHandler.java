package io.itemfleet.worker;

import io.itemfleet.schemas.MessageCodec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * POSTs the task message as JSON. 2xx succeeds; 408, 429 and 5xx retry (honouring Retry-After);
 * other 4xx fail.
 */
final class HttpHandler implements TaskHandler {
  private static final MessageCodec CODEC = new MessageCodec();

  /** Shared client; HTTP/1.1 keeps connection reuse predictable. */
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  /** Where to POST. */
  private final URI url;

  /** Extra request headers. */
  private final Map<String, String> headers;

  HttpHandler(URI url, Map<String, String> headers) {
    this.url = url;
    this.headers = Map.copyOf(headers);
  }

  static HttpHandler from(HandlerConfig c) {
    URI url;
    try {
      url = URI.create(c.string("url"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("url: not a URL: " + e.getMessage());
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("url: must be http:// or https://, was '" + url + "'");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (c.has("headers")) {
      if (!(c.raw("headers") instanceof Map<?, ?> m))
        throw new IllegalArgumentException("headers: must be a mapping");
      m.forEach((k, v) -> headers.put(String.valueOf(k), String.valueOf(v)));
    }
    return new HttpHandler(url, headers);
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(url)
            .header("Content-Type", "application/json")
            .header("X-Fleet-Job", ctx.job())
            .header("X-Fleet-Attempt", Integer.toString(ctx.attempt()))
            .POST(HttpRequest.BodyPublishers.ofByteArray(CODEC.encodeTask(ctx.task())));
    headers.forEach(b::header);
    HttpResponse<String> response;
    try {
      response = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      return HandlerResult.retry("http.timeout", e.getMessage());
    } catch (IOException e) {
      return HandlerResult.retry("http.io", e.toString());
    }
    int code = response.statusCode();
    String body =
        response.body().length() > 500 ? response.body().substring(0, 500) + "…" : response.body();
    if (code >= 200 && code < 300) {
      return new HandlerResult.Succeeded(Optional.of(response.body()));
    }
    if (code == 408 || code == 429 || code >= 500) {
      return new HandlerResult.Retry(
          "http." + code, "HTTP " + code + " from " + url + ": " + body, retryAfter(response));
    }
    return HandlerResult.failed("http." + code, "HTTP " + code + " from " + url + ": " + body);
  }

  private static Optional<Duration> retryAfter(HttpResponse<?> r) {
    return r.headers()
        .firstValue("Retry-After")
        .flatMap(
            v -> {
              try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(v.strip())));
              } catch (NumberFormatException e) {
                return Optional.empty();
              }
            });
  }
}
