package io.itemfleet.producer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
    int lines = 1;
    for (byte b : all) {
      if (b == '\n') lines++;
    }
    // Sized up front for up to a million IDs (no copying or rehashing on the way); beyond, or for
    // inputs of mostly blank lines, the structures grow as IDs arrive.
    int expected = Math.min(lines, 1 << 20);
    List<String> ids = new ArrayList<>(expected);
    List<String> errors = new ArrayList<>();
    long errorCount = 0;
    long duplicates = 0;
    String firstDuplicate = null;
    DuplicateFinder seen = new DuplicateFinder(ids, expected);
    CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    long lineNo = 0;
    int start = 0;
    while (start < all.length) {
      int end = start;
      boolean ascii = true;
      boolean control = false; // an ASCII control character other than the trimmed \t and \r
      while (end < all.length && all[end] != '\n') {
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
      String id = null;
      if (ascii) {
        id = new String(all, from, to - from, StandardCharsets.ISO_8859_1);
      } else {
        try {
          id = utf8.decode(ByteBuffer.wrap(all, from, to - from)).toString().strip();
        } catch (CharacterCodingException e) {
          problem = "not valid UTF-8";
        }
      }
      if (problem == null && to - from > maxIdBytes) {
        problem = "the item ID is " + (to - from) + " bytes, the limit is " + maxIdBytes;
      }
      // An ASCII line without control bytes needs no look at its chars; the trimmed ends may have
      // held \t or \r, which are checked again here inside the ID.
      boolean check = !ascii || control || hasTabOrCr(all, from, to);
      for (int i = 0; check && problem == null && i < id.length(); i++) {
        if (Character.isISOControl(id.charAt(i))) {
          problem =
              "the item ID contains control character U+"
                  + String.format("%04X", (int) id.charAt(i));
        }
      }
      if (problem != null) {
        errorCount++;
        if (errors.size() < MAX_ERRORS) {
          errors.add("line " + lineNo + ": " + problem);
        }
        continue;
      }
      if (seen.repeatElseAdd(id)) {
        duplicates++;
        if (firstDuplicate == null) {
          firstDuplicate = id;
        }
        if (dropDuplicates) {
          continue;
        }
        ids.add(id); // kept, but not added to the table again: its first copy is there
        continue;
      }
      ids.add(id);
    }
    return new ItemIdInput(
        ids, List.copyOf(errors), errorCount, duplicates, Optional.ofNullable(firstDuplicate));
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
