package io.itemfleet.schemas;

import java.util.Optional;

/** The result of decoding: a value, or a {@link DecodeError}. Decoding never throws. */
public sealed interface Decoded<T> {

  /** A decoded, valid value. */
  record Ok<T>(T value) implements Decoded<T> {}

  /** An undecodable or invalid record. */
  record Invalid<T>(DecodeError error) implements Decoded<T> {}

  default Optional<T> asOptional() {
    return this instanceof Ok<T> ok ? Optional.of(ok.value()) : Optional.empty();
  }

  default Optional<DecodeError> failure() {
    return this instanceof Invalid<T> invalid ? Optional.of(invalid.error()) : Optional.empty();
  }

  /**
   * The value, or an {@link IllegalStateException} carrying the decode error. For tests and tools.
   */
  default T orThrow() {
    return switch (this) {
      case Ok<T> ok -> ok.value();
      case Invalid<T> invalid -> throw new IllegalStateException("undecodable: " + invalid.error());
    };
  }
}
