package io.itemfleet.schemas;

/**
 * Why a record could not be decoded.
 *
 * @param field the field or header at fault (a JSON pointer-ish path such as {@code
 *     options.retries}), or {@code $} for the whole value
 * @param cause what is wrong, with the offending value where it is short
 */
public record DecodeError(Kind kind, String field, String cause) {

  /** The kinds of decode error. */
  public enum Kind {
    /** The value is longer than the configured limit. */
    OVERSIZE,
    /** The bytes are not valid UTF-8. */
    INVALID_UTF8,
    /** The bytes are not valid JSON. */
    MALFORMED_JSON,
    /** The message version is one this build does not read. */
    UNSUPPORTED_VERSION,
    /** A required field or header is missing. */
    MISSING_FIELD,
    /** A field has the wrong JSON type. */
    WRONG_TYPE,
    /** A field has the right type but a value outside its rules. */
    INVALID_VALUE
  }

  @Override
  public String toString() {
    return kind + " at " + field + ": " + cause;
  }
}
