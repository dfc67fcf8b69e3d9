package io.itemfleet.cli;

import io.itemfleet.schemas.Redaction;
import java.io.PrintStream;

/**
 * Warns when a secret came as a command-line flag: every user of the machine can read a process's
 * flags ({@code ps}, {@code /proc/PID/cmdline}), and shells keep them in their history. The same
 * value from its environment variable draws no warning.
 */
final class SecretFlags {
  private SecretFlags() {}

  /** {@code value}, of {@code flag}, is a secret as a whole (a password) unless it is empty. */
  static void password(PrintStream err, String flag, String value, String env) {
    if (value != null && !value.isEmpty() && !value.equals(System.getenv(env))) {
      warn(err, flag, env);
    }
  }

  /**
   * {@code value}, a URL of {@code flag}, holds a secret where the redaction rule would mask one: a
   * user-info password or a secret parameter.
   */
  static void url(PrintStream err, String flag, String value, String env) {
    if (value != null
        && !value.equals(System.getenv(env))
        && !Redaction.text(value).equals(value)) {
      warn(err, flag, env);
    }
  }

  private static void warn(PrintStream err, String flag, String env) {
    err.println(
        "fleet: warning: "
            + flag
            + " holds a secret, and every user of this machine can read command-line flags (ps,"
            + " shell history); set "
            + env
            + " instead");
  }
}
