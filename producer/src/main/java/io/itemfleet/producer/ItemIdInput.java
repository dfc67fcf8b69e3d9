package io.itemfleet.producer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * Item IDs read from a file or stdin, one per line, validated before anything is sent: blank lines
 * and {@code #} comments are skipped; invalid UTF-8, control characters and over-long IDs are
 * errors that name the line. Duplicates are counted exactly.
 *
 * @param ids the IDs in input order (duplicates included, unless they were dropped)
 * @param errors at most {@link #MAX_ERRORS} problems, each naming its line
 * @param errorCount all problems found
 * @param duplicates IDs seen before in this input
 * @param firstDuplicate the first repeated ID
 */
public record ItemIdInput(
    List<String> ids,
    List<String> errors,
    long errorCount,
    long duplicates,
    Optional<String> firstDuplicate) {
  /** How many problems are listed before the rest are only counted. */
  public static final int MAX_ERRORS = 10;

  public boolean valid() {
    return errorCount == 0;
  }

  /**
   * Reads every line of {@code in}.
   *
   * @param maxIdBytes the longest ID accepted, in UTF-8 bytes
   * @param dropDuplicates leave repeated IDs out of {@link #ids()}
   */
  public static ItemIdInput read(InputStream in, int maxIdBytes, boolean dropDuplicates)
      throws IOException {
    return read(in, maxIdBytes, dropDuplicates, defaultMaxInputBytes());
  }

  /**
   * The most input read by default: every ID is checked (and held) before anything is sent, so the
   * input must fit in memory a few times over: a tenth of the heap, at most 1 GiB.
   */
  public static long defaultMaxInputBytes() {
    return Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 10);
  }

  /**
   * Reads every line of {@code in}, refusing more than {@code maxInputBytes}.
   *
   * @throws InputTooLargeException past {@code maxInputBytes}, before anything was decoded
   */
  public static ItemIdInput read(
      InputStream in, int maxIdBytes, boolean dropDuplicates, long maxInputBytes)
      throws IOException {
    byte[] all = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxInputBytes + 1));
    if (all.length > maxInputBytes) {
      throw new InputTooLargeException(maxInputBytes);
    }
    // Two halves, split at a line's start, are read side by side on a large input.
    int cut = all.length;
    if (TwoThreads.worthIt(all.length)) {
      int nl = all.length / 2;
      while (nl < all.length && all[nl] != '\n') nl++;
      cut = Math.min(all.length, nl + 1);
    }
    long linesBefore = 0;
    for (int i = 0; i < cut; i++) {
      if (all[i] == '\n') linesBefore++;
    }
    Part head = new Part(all, 0, cut, 0, maxIdBytes);
    Part tail = new Part(all, cut, all.length, linesBefore, maxIdBytes);
    TwoThreads.run(cut < all.length, head::scan, tail::scan);
    IdSpans ids = head.ids;
    ids.addAll(tail.ids);
    List<String> errors = new ArrayList<>(head.errors);
    for (String e : tail.errors) {
      if (errors.size() < MAX_ERRORS) errors.add(e);
    }
    long errorCount = head.errorCount + tail.errorCount;
    // Duplicates are looked for once every line is read, partition by partition (DuplicateFinder).
    BitSet repeats = DuplicateFinder.repeats(ids);
    int duplicates = repeats.cardinality();
    String firstDuplicate = duplicates == 0 ? null : ids.get(repeats.nextSetBit(0));
    if (dropDuplicates && duplicates > 0) {
      ids = ids.without(repeats);
    }
    return new ItemIdInput(
        ids, List.copyOf(errors), errorCount, duplicates, Optional.ofNullable(firstDuplicate));
  }

  /** The lines of one stretch of the input, read by one thread. */
  private static final class Part {
    private final byte[] all;
    private final int begin;
    private final int finish;
    private final long firstLine;
    private final int maxIdBytes;
    final IdSpans ids;
    final List<String> errors = new ArrayList<>();
    long errorCount;

    Part(byte[] all, int begin, int finish, long linesBefore, int maxIdBytes) {
      this.all = all;
      this.begin = begin;
      this.finish = finish;
      this.firstLine = linesBefore;
      this.maxIdBytes = maxIdBytes;
      // Sized up front (no copying on the way) from a guess of at least 8 bytes per line.
      this.ids = new IdSpans(all, Math.min((finish - begin) / 8 + 16, 1 << 20));
    }

    void scan() {
      CharsetDecoder utf8 =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      long lineNo = firstLine;
      int start = begin;
      if (firstLine == 0
          && finish - start >= 3
          && all[start] == (byte) 0xEF
          && all[start + 1] == (byte) 0xBB
          && all[start + 2] == (byte) 0xBF) {
        // A UTF-8 byte order mark (Notepad, Excel's "CSV UTF-8", PowerShell) is not part of the
        // first ID: kept, "U+FEFF 123" would run as another item than "123".
        start += 3;
      }
      while (start < finish) {
        int end = start;
        boolean ascii = true;
        boolean control = false; // an ASCII control character other than the trimmed \t and \r
        while (end < finish && all[end] != '\n') {
          byte b = all[end];
          ascii &= b >= 0;
          control |= (b >= 0 && b < 0x20 && b != '\t' && b != '\r') || b == 0x7f;
          end++;
        }
        lineNo++;
        int from = start;
        int to = end;
        start = end + 1;
        while (from < to && isSpace(all[from])) from++;
        while (to > from && isSpace(all[to - 1])) to--;
        if (from == to || all[from] == '#') {
          continue;
        }
        String problem = null;
        int idFrom = from;
        int idTo = to;
        if (!ascii) {
          // The ID is the decoded line stripped of Unicode whitespace: its bytes are the UTF-8 of
          // what is left, a stretch of the line (valid UTF-8 decodes and encodes back exactly).
          String id = null;
          try {
            String line = utf8.decode(ByteBuffer.wrap(all, from, to - from)).toString();
            id = line.strip();
            String lead = line.substring(0, line.length() - line.stripLeading().length());
            idFrom = from + lead.getBytes(StandardCharsets.UTF_8).length;
            idTo = idFrom + id.getBytes(StandardCharsets.UTF_8).length;
          } catch (CharacterCodingException e) {
            problem = "not valid UTF-8";
          }
          if (problem == null && id.isEmpty()) {
            problem = "the line holds only whitespace characters (no item ID)";
          }
          if (problem == null && to - from > maxIdBytes) {
            problem = "the item ID is " + (to - from) + " bytes, the limit is " + maxIdBytes;
          }
          for (int i = 0; problem == null && i < id.length(); i++) {
            if (io.itemfleet.schemas.Names.isControl(id.charAt(i))) {
              problem = controlCharacter(id.charAt(i));
            }
          }
        } else if (to - from > maxIdBytes) {
          problem = "the item ID is " + (to - from) + " bytes, the limit is " + maxIdBytes;
        } else if (control || hasTabOrCr(all, from, to)) {
          // An ASCII line without control bytes needs no look at each byte; the trimmed ends may
          // have held \t or \r, which are checked again here inside the ID.
          for (int i = from; problem == null && i < to; i++) {
            if (all[i] < 0x20 || all[i] == 0x7f) problem = controlCharacter((char) all[i]);
          }
        }
        if (problem != null) {
          errorCount++;
          if (errors.size() < MAX_ERRORS) {
            errors.add("line " + lineNo + ": " + problem);
          }
          continue;
        }
        ids.add(idFrom, idTo, ascii);
      }
    }
  }

  private static String controlCharacter(char c) {
    return "the item ID contains control character U+" + String.format("%04X", (int) c);
  }

  private static boolean hasTabOrCr(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\t' || b[i] == '\r') return true;
    }
    return false;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r';
  }

  /** The input is larger than a produce run checks at once. */
  public static final class InputTooLargeException extends IllegalArgumentException {
    /** The limit that was passed. */
    public final long limit;

    InputTooLargeException(long limit) {
      super("the input is over " + (limit >> 20) + " MiB");
      this.limit = limit;
    }
  }
}
