package io.itemfleet.schemas;

import java.util.Map;
import java.util.Optional;

/** Reads a record header as a UTF-8 string; lets the codec stay free of the Kafka client. */
@FunctionalInterface
public interface HeaderLookup {
  Optional<String> get(String name);

  HeaderLookup NONE = name -> Optional.empty();

  static HeaderLookup of(Map<String, String> headers) {
    return name -> Optional.ofNullable(headers.get(name));
  }
}
