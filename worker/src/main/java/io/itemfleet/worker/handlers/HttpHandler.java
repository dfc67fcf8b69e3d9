package io.itemfleet.worker.handlers;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.MessageCodec;
import java.io.IOException;
import java.io.InputStream;
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

  /** Largest response body read by default (1 MiB). */
  static final int DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

  /** Response text kept in an error message. */
  private static final int MESSAGE_BODY_CHARS = 500;

  /**
   * Most bytes of a response body held by an attempt: three per character of the 64 Ki characters a
   * result may have to be kept with its cache entry (a UTF-8 character of one UTF-16 unit is at
   * most 3 bytes), so that any body short enough to be kept is whole. Before, the whole body up to
   * {@code maxResponseBytes} (1 MiB by default) was held, about three times over.
   */
  static final int KEPT_BYTES = 3 * 64 * 1024;

  /** Where to POST. */
  private final URI url;

  /** The URL as shown in messages: user-info and secret-looking query values masked. */
  private final String shownUrl;

  /** Extra request headers. */
  private final Map<String, String> headers;

  /** Largest response body read; a larger 2xx body fails the item ({@code http.body_too_large}). */
  private final int maxResponseBytes;

  HttpHandler(URI url, Map<String, String> headers, int maxResponseBytes) {
    this.url = url;
    this.shownUrl = io.itemfleet.schemas.Redaction.text(url.toString());
    this.headers = Map.copyOf(headers);
    this.maxResponseBytes = maxResponseBytes;
  }

  /**
   * The handler of a type's settings; a URL or header the HTTP client would refuse fails here, at
   * start, naming the setting (before, every attempt failed with it, retried in vain). Messages
   * never quote the URL, which may carry a token or password.
   */
  static HttpHandler from(HandlerConfig c) {
    URI url;
    try {
      url = URI.create(c.string("url"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "url: not a URL"
              + (e.getCause() instanceof java.net.URISyntaxException u
                  ? " (" + u.getReason() + " at index " + u.getIndex() + ")"
                  : ""));
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException(
          "url: must be http:// or https://, was "
              + (url.getScheme() == null ? "one without a scheme" : url.getScheme() + "://…"));
    }
    if (url.getHost() == null || url.getHost().isEmpty()) {
      throw new IllegalArgumentException("url: names no host (http://host[:port]/path)");
    }
    try {
      HttpRequest.newBuilder(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("url: the HTTP client refuses it");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (c.has("headers")) {
      if (!(c.raw("headers") instanceof Map<?, ?> m))
        throw new IllegalArgumentException("headers: must be a mapping");
      m.forEach((k, v) -> headers.put(String.valueOf(k), String.valueOf(v)));
    }
    for (Map.Entry<String, String> h : headers.entrySet()) {
      try {
        HttpRequest.newBuilder(url).header(h.getKey(), h.getValue());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "headers."
                + h.getKey()
                + ": the HTTP client refuses this header (one it sets itself, such as Host or"
                + " Content-Length, or a value with a line break or control character)");
      }
    }
    int max = DEFAULT_MAX_RESPONSE_BYTES;
    if (c.has("maxResponseBytes")) {
      if (!(c.raw("maxResponseBytes") instanceof Number n)
          || n.longValue() < 1
          || n.longValue() > 64L << 20) {
        throw new IllegalArgumentException(
            "maxResponseBytes: must be a whole number in [1, 67108864], was '"
                + c.raw("maxResponseBytes")
                + "'");
      }
      max = n.intValue();
    }
    return new HttpHandler(url, headers, max);
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(url)
            .header("Content-Type", "application/json")
            .header("X-Fleet-Job", headerValue(ctx.job()))
            .header("X-Fleet-Attempt", Integer.toString(ctx.attempt()))
            .POST(HttpRequest.BodyPublishers.ofByteArray(CODEC.encodeTask(TaskView.taskOf(ctx))));
    headers.forEach(b::header);
    HttpResponse<InputStream> response;
    byte[] read;
    long size;
    try {
      response = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = response.body()) {
        // Only what a result can use is kept; the rest is counted, up to the cap, and dropped.
        // Closing early cancels the rest.
        read = in.readNBytes(Math.min(maxResponseBytes, KEPT_BYTES) + 1);
        size = read.length;
        if (read.length > KEPT_BYTES) {
          byte[] skip = new byte[8192];
          for (int n; size <= maxResponseBytes && (n = in.read(skip)) > 0; ) size += n;
        }
      }
    } catch (HttpTimeoutException e) {
      return HandlerResult.retry(
          "http.timeout", io.itemfleet.schemas.Redaction.text(e.getMessage()));
    } catch (IOException e) {
      return HandlerResult.retry("http.io", io.itemfleet.schemas.Redaction.text(e.toString()));
    }
    int code = response.statusCode();
    boolean tooLarge = size > maxResponseBytes;
    String start = new String(read, 0, Math.min(read.length, 4 * MESSAGE_BODY_CHARS), UTF_8);
    String body =
        start.length() > MESSAGE_BODY_CHARS ? start.substring(0, MESSAGE_BODY_CHARS) + "…" : start;
    if (code >= 200 && code < 300) {
      if (tooLarge) {
        return HandlerResult.failed(
            "http.body_too_large",
            "HTTP "
                + code
                + " from "
                + shownUrl
                + ": the response body is over maxResponseBytes ("
                + maxResponseBytes
                + "); raise it for this type or return less");
      }
      // A body of more than KEPT_BYTES is over the 64 Ki characters a result may have to be kept
      // (with its cache entry): no result, as the worker would have dropped it.
      return new HandlerResult.Succeeded(
          size > KEPT_BYTES ? Optional.empty() : Optional.of(new String(read, UTF_8)));
    }
    if (code == 408 || code == 429 || code >= 500) {
      return new HandlerResult.Retry(
          "http." + code, "HTTP " + code + " from " + shownUrl + ": " + body, retryAfter(response));
    }
    return HandlerResult.failed("http." + code, "HTTP " + code + " from " + shownUrl + ": " + body);
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

  /**
   * A job name as the {@code X-Fleet-Job} header carries it: as it is when it is printable ASCII
   * without '%', else percent-encoded as UTF-8 (RFC 3986), since a header value cannot hold
   * characters beyond Latin-1 (the JDK's client refuses them) and Latin-1 ones would arrive as
   * something else. The request body's {@code job} has the name as it is.
   */
  static String headerValue(String name) {
    boolean plain = true;
    for (int i = 0; i < name.length() && plain; i++) {
      char c = name.charAt(i);
      plain = c > ' ' && c < 0x7f && c != '%';
    }
    if (plain) return name;
    StringBuilder b = new StringBuilder(name.length() * 3);
    for (byte x : name.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if (c > ' ' && c < 0x7f && c != '%') {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        b.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return b.toString();
  }
}
