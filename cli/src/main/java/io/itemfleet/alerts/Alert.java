package io.itemfleet.alerts;

import java.time.Instant;
import java.util.List;

/**
 * One alert for the webhook.
 *
 * @param kind FIRST (the first failure of a fingerprint in a job, sent at once), SUMMARY (later
 *     failures of it over a window, with their count) or POISON (always sent at once)
 * @param count failures this alert stands for
 * @param samples some of their items (or record coordinates where a POISON record has no item)
 * @param since the first of these failures
 * @param until the last of these failures
 * @param hint the command that lists them
 */
public record Alert(
    Kind kind,
    String job,
    String type,
    String fingerprint,
    String errorClass,
    String message,
    long count,
    List<String> samples,
    Instant since,
    Instant until,
    String hint) {

  /** What an alert reports. */
  public enum Kind {
    FIRST,
    SUMMARY,
    POISON
  }

  /** One line for people: what, where, how many, what to run. */
  public String text() {
    String what =
        switch (kind) {
          case FIRST -> "new failure";
          case SUMMARY -> count + " more failures";
          case POISON -> count + " POISON record" + (count == 1 ? "" : "s");
        };
    return "ItemFleet: "
        + what
        + " in job "
        + job
        + " (type "
        + type
        + "): "
        + errorClass
        + ": "
        + message
        + " — e.g. "
        + String.join(", ", samples)
        + " — "
        + hint;
  }
}
