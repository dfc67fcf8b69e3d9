package io.itemfleet.cli;

import io.itemfleet.producer.RecordForm;
import java.util.Locale;

/**
 * The record form commands send items in: {@code --record-form} on {@code fleet produce}, else
 * {@code FLEET_RECORD_FORM} (also read by {@code fleet replay} and the console's replay), else
 * compact. While a fleet still runs workers built before compact items, set {@code
 * FLEET_RECORD_FORM=headers} everywhere.
 */
final class RecordForms {
  private RecordForms() {}

  /** The environment variable every sending command reads. */
  static final String ENV = "FLEET_RECORD_FORM";

  /** {@code compact} or {@code headers}; anything else is a usage error naming {@code source}. */
  static RecordForm parse(String value, String source) {
    return switch (value == null ? "" : value.strip().toLowerCase(Locale.ROOT)) {
      case "compact" -> RecordForm.COMPACT;
      case "headers" -> RecordForm.HEADERS;
      default ->
          throw new UsageException(source + " must be 'compact' or 'headers', was '" + value + "'");
    };
  }

  /** {@code FLEET_RECORD_FORM}, compact when unset. */
  static RecordForm fromEnvironment() {
    String v = System.getenv(ENV);
    return v == null || v.isBlank() ? RecordForm.COMPACT : parse(v, ENV);
  }
}
