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
  private final boolean stopAtCut;

  /** Lines cut at {@code max}, the rest of a long line skipped up to its end. */
  LineReader(Reader in, int max) {
    this(in, max, false);
  }

  /**
   * With {@code stopAtCut}, a line longer than {@code max} is returned (cut) as soon as {@code max}
   * characters are read, not at its end: for a reader that gives up on the stream then. A child
   * writing a long line and never its end is noticed at once, instead of its reader skipping for
   * ever.
   */
  LineReader(Reader in, int max, boolean stopAtCut) {
    this.in = in;
    this.max = max;
    this.stopAtCut = stopAtCut;
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
      if (cut && stopAtCut) {
        pos += keep; // the rest is not read: the caller stops reading this stream
        return strip(line);
      }
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
