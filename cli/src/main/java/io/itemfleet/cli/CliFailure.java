package io.itemfleet.cli;

/** A failure with its own exit code and a message for the user; no stack trace. */
final class CliFailure extends RuntimeException {
  final int code;

  CliFailure(int code, String message) {
    super(message);
    this.code = code;
  }
}
