package io.itemfleet.worker.handlers;

import java.io.IOException;
import java.io.Reader;

/**
 * Lines of a child's output, each held to at most {@code max} characters: a longer line is cut
 * there and the rest of it skipped (read, not kept), so a child that prints gigabytes without a
 * newline cannot exhaust the worker's heap ({@code BufferedReader.readLine} keeps the whole line).
 * One reader thread only.
 */
final class LineReader {
  private final Reader in;
  private final int max;
  private final char[] buf = new char[8192];
  private int pos;
  private int end;
  private boolean cut;

  LineReader(Reader in, int max) {
    this.in = in;
    this.max = max;
  }

  /** The next line without its terminator ("\n" or "\r\n"); null at the end of the stream. */
  String next() throws IOException {
    StringBuilder line = new StringBuilder();
    cut = false;
    boolean any = false;
    while (true) {
      if (pos == end) {
        end = in.read(buf, 0, buf.length);
        pos = 0;
        if (end <= 0) {
          end = 0;
          return any ? strip(line) : null;
        }
      }
      any = true;
      int nl = pos;
      while (nl < end && buf[nl] != '\n') nl++;
      int keep = Math.min(nl - pos, max - line.length());
      if (keep < nl - pos) cut = true;
      line.append(buf, pos, keep);
      if (nl < end) {
        pos = nl + 1;
        return strip(line);
      }
      pos = end;
    }
  }

  /** True when the line {@link #next} returned last was longer than {@code max} and was cut. */
  boolean cut() {
    return cut;
  }

  private static String strip(StringBuilder line) {
    int n = line.length();
    return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
  }
}
