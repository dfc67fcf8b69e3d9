package io.itemfleet.recorder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;

/** JSON text for jsonb parameters. */
final class Json {
  private Json() {}

  static final ObjectMapper MAPPER = new ObjectMapper();

  static String object(Map<String, String> m) {
    try {
      return MAPPER.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
