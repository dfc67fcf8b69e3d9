package io.itemfleet.producer;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Item IDs read from a file or stdin, one per line, validated before anything is sent: blank lines
 * and {@code #} comments are skipped; invalid UTF-8, control characters and over-long IDs are
 * errors that name the line. Duplicates are counted.
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
    List<String> ids = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    long errorCount = 0;
    long duplicates = 0;
    String firstDuplicate = null;
    Set<String> seen = new HashSet<>();
    CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    long lineNo = 0;
    try (InputStream buffered = new BufferedInputStream(in, 1 << 16)) {
      int b;
      boolean more = true;
      while (more) {
        b = buffered.read();
        if (b != -1 && b != '\n') {
          line.write(b);
          continue;
        }
        more = b != -1;
        if (!more && line.size() == 0) {
          break;
        }
        lineNo++;
        String problem = null;
        String id = null;
        try {
          String text = utf8.decode(ByteBuffer.wrap(line.toByteArray())).toString().strip();
          if (!text.isEmpty() && !text.startsWith("#")) {
            id = text;
            int bytes = text.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > maxIdBytes) {
              problem = "the item ID is " + bytes + " bytes, the limit is " + maxIdBytes;
            } else {
              for (int i = 0; i < text.length() && problem == null; i++) {
                if (Character.isISOControl(text.charAt(i))) {
                  problem =
                      "the item ID contains control character U+"
                          + String.format("%04X", (int) text.charAt(i));
                }
              }
            }
          }
        } catch (CharacterCodingException e) {
          problem = "not valid UTF-8";
        }
        line.reset();
        if (problem != null) {
          errorCount++;
          if (errors.size() < MAX_ERRORS) {
            errors.add("line " + lineNo + ": " + problem);
          }
        } else if (id != null) {
          if (!seen.add(id)) {
            duplicates++;
            if (firstDuplicate == null) {
              firstDuplicate = id;
            }
            if (dropDuplicates) {
              continue;
            }
          }
          ids.add(id);
        }
      }
    }
    return new ItemIdInput(
        List.copyOf(ids),
        List.copyOf(errors),
        errorCount,
        duplicates,
        Optional.ofNullable(firstDuplicate));
  }
}
