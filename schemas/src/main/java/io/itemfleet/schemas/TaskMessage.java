package io.itemfleet.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A task message (schema {@code task.schema.json}, version 1).
 *
 * @param attempt attempts already made before this message; 0 for a first attempt
 * @param notBefore for retry messages, the earliest start
 * @param payload free-form JSON for the handler; {@link NullNode} when absent, never null
 */
public record TaskMessage(
    String job,
    String type,
    String item,
    int attempt,
    Optional<Instant> notBefore,
    JsonNode payload,
    TaskOptions options) {

  public TaskMessage {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(item, "item");
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(options, "options");
    if (job.isEmpty() || type.isEmpty() || item.isEmpty()) {
      throw new IllegalArgumentException(
          "job, type and item must not be empty: job='"
              + job
              + "', type='"
              + type
              + "', item='"
              + item
              + "'");
    }
    Names.problem("job", job).ifPresent(p -> fail(p));
    Names.problem("type", type).ifPresent(p -> fail(p));
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must be >= 0, was " + attempt);
    }
  }

  private static void fail(String problem) {
    throw new IllegalArgumentException(problem);
  }

  /** A first attempt with no payload and no options. */
  public static TaskMessage of(String job, String type, String item) {
    return new TaskMessage(
        job, type, item, 0, Optional.empty(), NullNode.getInstance(), TaskOptions.NONE);
  }

  /** The message for the next attempt, not to start before {@code at}. */
  public TaskMessage nextAttempt(Instant at) {
    return new TaskMessage(job, type, item, attempt + 1, Optional.of(at), payload, options);
  }

  /** The same attempt, not to start before {@code at}. */
  public TaskMessage withNotBefore(Instant at) {
    return new TaskMessage(job, type, item, attempt, Optional.of(at), payload, options);
  }

  public TaskMessage withPayload(JsonNode p) {
    return new TaskMessage(job, type, item, attempt, notBefore, p, options);
  }

  public TaskMessage withOptions(TaskOptions o) {
    return new TaskMessage(job, type, item, attempt, notBefore, payload, o);
  }
}
