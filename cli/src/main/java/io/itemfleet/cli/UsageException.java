package io.itemfleet.cli;

/** Bad arguments or configuration: reported in one line, exit code 2. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}
