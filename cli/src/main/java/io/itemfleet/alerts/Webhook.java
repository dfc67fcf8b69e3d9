package io.itemfleet.alerts;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * Posts alerts to one URL. A delivery counts only when the receiver answers 2xx; anything else (a
 * refused connection, a time-out, 4xx, 5xx) is a {@link DeliveryFailed} for the caller to retry.
 * The URL is never printed whole: Slack's and others' carry their secret in the path.
 */
public final class Webhook {
  private final URI url;
  private final WebhookFormat format;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A delivery that did not get a 2xx answer. */
  public static final class DeliveryFailed extends Exception {
    /** The receiver's answer, or 0 when there was none. */
    final int status;

    DeliveryFailed(String message, Throwable cause) {
      this(message, cause, 0);
    }

    DeliveryFailed(String message, Throwable cause, int status) {
      super(message, cause);
      this.status = status;
    }

    /**
     * True when the receiver refused this very body (400, 413, 415, 422): sending it again gets the
     * same answer. An outage, a time-out, a rate limit, a wrong URL or token (401, 403, 404, a
     * redirect) are not: they pass, or someone fixes them, and the delivery is retried.
     */
    boolean refusedForGood() {
      return status == 400 || status == 413 || status == 415 || status == 422;
    }

    /** True when the receiver said the body is too large for it (413). */
    boolean tooLarge() {
      return status == 413;
    }
  }

  /** The longest one delivery may take, from connecting to the last byte of the answer. */
  static final Duration DEADLINE = Duration.ofSeconds(30);

  private final Duration deadline;

  public Webhook(URI url, WebhookFormat format) {
    this(url, format, DEADLINE);
  }

  Webhook(URI url, WebhookFormat format, Duration deadline) {
    this.deadline = deadline;
    if (url.getScheme() == null
        || !(url.getScheme().equalsIgnoreCase("http") || url.getScheme().equalsIgnoreCase("https"))
        || url.getHost() == null) {
      throw new IllegalArgumentException("--webhook must be an http:// or https:// URL");
    }
    if (url.getPort() > 65535) {
      throw new IllegalArgumentException(
          "--webhook's port must be at most 65535, was " + url.getPort());
    }
    this.url = url;
    this.format = format;
  }

  /** The body's format. */
  public WebhookFormat format() {
    return format;
  }

  /** Where alerts go, for messages: scheme, host and port only. */
  public String where() {
    return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
  }

  /** Posts {@code alerts} in one request; returns once the receiver answered 2xx. */
  public void post(List<Alert> alerts) throws DeliveryFailed, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(url)
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(format.body(alerts)))
            .build();
    HttpResponse<Void> res;
    // The request's time-out covers only the wait for the answer's headers: a receiver that sends
    // them and never finishes the body held the delivery (and the alerter) for ever. The whole
    // exchange has a deadline; past it the request is cancelled and the delivery retried.
    var exchange = http.sendAsync(req, HttpResponse.BodyHandlers.discarding());
    try {
      res = exchange.get(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      exchange.cancel(true);
      throw new DeliveryFailed(
          where() + ": no complete answer within " + deadline.toSeconds() + " s", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      throw new DeliveryFailed(
          where() + ": " + c.getClass().getSimpleName() + " " + c.getMessage(), c);
    } catch (InterruptedException e) {
      exchange.cancel(true);
      throw e;
    }
    if (res.statusCode() / 100 != 2) {
      throw new DeliveryFailed(where() + " answered " + res.statusCode(), null, res.statusCode());
    }
  }
}
