package io.itemfleet.worker;

/**
 * Decimal digits of a non-negative number written straight into a byte array, for the values the
 * Redis gate builds once per item (a lease's, a done marker's): no string, no encoder.
 */
final class Digits {
  private Digits() {}

  /** How many digits {@code v} (at least 0) has. */
  static int count(long v) {
    int n = 1;
    for (long x = v; x >= 10; x /= 10) n++;
    return n;
  }

  /**
   * Writes {@code v} (at least 0) so that its last digit is at {@code end - 1}; returns its start.
   */
  static int putBefore(byte[] out, int end, long v) {
    int at = end;
    long x = v;
    do {
      out[--at] = (byte) ('0' + x % 10);
      x /= 10;
    } while (x != 0);
    return at;
  }
}
