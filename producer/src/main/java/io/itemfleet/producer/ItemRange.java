package io.itemfleet.producer;

/**
 * An inclusive range of numeric item IDs, {@code A..B}.
 *
 * @param first the first ID
 * @param last the last ID, {@code >= first}
 */
public record ItemRange(long first, long last) {
  public ItemRange {
    if (first < 0 || last < first) {
      throw new IllegalArgumentException("a range needs 0 <= A <= B, got " + first + ".." + last);
    }
    if (last - first >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "a range may hold at most " + Integer.MAX_VALUE + " items, got " + first + ".." + last);
    }
  }

  /** Parses {@code A..B}, e.g. {@code 1..20000}. */
  public static ItemRange parse(String text) {
    int dots = text.indexOf("..");
    if (dots < 0) {
      throw new IllegalArgumentException("a range is A..B (e.g. 1..20000), got '" + text + "'");
    }
    try {
      return new ItemRange(
          Long.parseLong(text.substring(0, dots).strip()),
          Long.parseLong(text.substring(dots + 2).strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "a range is A..B with whole numbers (e.g. 1..20000), got '" + text + "'", e);
    }
  }

  public long size() {
    return last - first + 1;
  }

  /**
   * The IDs in order, as decimal text. Counted, not compared: a range ending at {@code
   * Long.MAX_VALUE} ends there (an {@code id <= last} loop wrapped round to negative IDs for ever).
   */
  public java.util.Iterator<String> ids() {
    return new java.util.Iterator<>() {
      private long left = size();
      private long next = first;

      @Override
      public boolean hasNext() {
        return left > 0;
      }

      @Override
      public String next() {
        if (left <= 0) throw new java.util.NoSuchElementException();
        left--;
        return Long.toString(next++);
      }
    };
  }
}
