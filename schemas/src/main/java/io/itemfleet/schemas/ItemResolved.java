package io.itemfleet.schemas;

import java.time.Instant;
import java.util.Objects;

/**
 * Published by a worker when a replayed item succeeds (schema {@code item-resolved.schema.json});
 * the recorder marks the item's failure row resolved.
 */
public record ItemResolved(String job, String type, String item, Instant resolvedAt)
    implements JobEvent {
  public ItemResolved {
    Objects.requireNonNull(resolvedAt, "resolvedAt");
    if (job.isEmpty() || item.isEmpty()) {
      throw new IllegalArgumentException("job and item must not be empty");
    }
  }
}
