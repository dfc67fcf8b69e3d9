package io.itemfleet.cli;

/** The machine's python3, for the tests of the Python client and the process handler. */
final class Python {
  private Python() {}

  /** Whether {@code python3} runs here; tests that need it skip, saying so, when not. */
  static boolean runs() {
    try {
      return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
