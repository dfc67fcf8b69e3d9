package io.itemfleet.alerts;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** The body posted for a batch of alerts, in one of three formats. */
public enum WebhookFormat {
  /** {@code {"alerts": [{kind, job, type, fingerprint, errorClass, message, count, ...}]}}. */
  GENERIC,
  /** Slack's incoming webhook (and compatibles: Mattermost, Rocket.Chat): {@code {"text": ...}}. */
  SLACK,
  /** Alertmanager's API v2 ({@code POST /api/v2/alerts}): an array of alerts with labels. */
  ALERTMANAGER;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parses {@code generic}, {@code slack} or {@code alertmanager}, any case. */
  public static WebhookFormat parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--format must be generic, slack or alertmanager, was '" + s + "'");
    }
  }

  /**
   * Most characters of a Slack body's text: Slack cuts a message's text after 40,000 characters and
   * still answers 200, so what was cut would count as delivered. Kept below that, with room.
   */
  static final int MAX_SLACK_TEXT = 35_000;

  /**
   * How many of {@code alerts}' first ones (at most {@code max}, at least one) one request carries:
   * for Slack, as many as keep the text within {@link #MAX_SLACK_TEXT}.
   */
  public int fits(List<Alert> alerts, int max) {
    int n = Math.min(max, alerts.size());
    if (this != SLACK) return n;
    int chars = 0;
    for (int i = 0; i < n; i++) {
      chars += slackEscape(alerts.get(i).text()).length() + 1;
      if (chars > MAX_SLACK_TEXT) return Math.max(1, i);
    }
    return n;
  }

  /** The JSON body for {@code alerts}. */
  public byte[] body(List<Alert> alerts) {
    return switch (this) {
      case GENERIC -> generic(alerts);
      case SLACK -> slack(alerts);
      case ALERTMANAGER -> alertmanager(alerts);
    };
  }

  private static byte[] generic(List<Alert> alerts) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("alerts");
    for (Alert a : alerts) {
      ObjectNode o = list.addObject();
      o.put("kind", a.kind().name());
      o.put("job", a.job());
      o.put("type", a.type());
      o.put("fingerprint", a.fingerprint());
      o.put("errorClass", a.errorClass());
      o.put("message", a.message());
      o.put("count", a.count());
      a.samples().forEach(o.putArray("samples")::add);
      o.put("since", a.since().toString());
      o.put("until", a.until().toString());
      o.put("hint", a.hint());
    }
    return bytes(root);
  }

  private static byte[] slack(List<Alert> alerts) {
    StringBuilder text = new StringBuilder();
    for (Alert a : alerts) {
      if (!text.isEmpty()) text.append('\n');
      text.append(slackEscape(a.text()));
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("text", text.toString());
    return bytes(root);
  }

  /**
   * Slack reads &lt;...&gt; as links and mentions (&lt;!channel&gt;): escape, as Slack asks.
   * Mattermost and Rocket.Chat, which take this format too, read {@code @channel}, {@code @all} and
   * {@code @name} in plain text as mentions: a handler's error message must not page a whole
   * channel, so an {@code @} that starts a word is sent as the full-width {@code ＠}. One inside a
   * word stays, so that a hint such as {@code fleet failures etl@eu} can still be copied.
   */
  static String slackEscape(String s) {
    return MENTION
        .matcher(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        .replaceAll("\uFF20");
  }

  /** An {@code @} that starts a word. */
  private static final java.util.regex.Pattern MENTION =
      java.util.regex.Pattern.compile("(?<![\\p{L}\\p{N}])@");

  private static byte[] alertmanager(List<Alert> alerts) {
    ArrayNode list = JSON.createArrayNode();
    for (Alert a : alerts) {
      ObjectNode o = list.addObject();
      ObjectNode labels = o.putObject("labels");
      labels.put(
          "alertname", a.kind() == Alert.Kind.POISON ? "ItemFleetPoison" : "ItemFleetFailure");
      labels.put("severity", a.kind() == Alert.Kind.POISON ? "critical" : "warning");
      labels.put("fleet_job", a.job());
      labels.put("type", a.type());
      labels.put("fingerprint", a.fingerprint());
      labels.put("error_class", a.errorClass());
      ObjectNode ann = o.putObject("annotations");
      ann.put("summary", a.text());
      ann.put("description", a.message());
      ann.put("count", Long.toString(a.count()));
      ann.put("samples", String.join(", ", a.samples()));
      ann.put("hint", a.hint());
      // Never in the future: the time is the failure event's, which any Kafka client (or a worker
      // whose clock runs fast) writes; Alertmanager refuses an alert that ends before it starts.
      java.time.Instant now = java.time.Instant.now();
      o.put("startsAt", (a.since().isAfter(now) ? now : a.since()).toString());
    }
    return bytes(list);
  }

  private static byte[] bytes(Object node) {
    try {
      return JSON.writeValueAsString(node).getBytes(StandardCharsets.UTF_8);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
