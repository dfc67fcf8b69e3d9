package io.itemfleet.producer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ItemIdInputTest {
  private static ItemIdInput read(String text, boolean drop) throws IOException {
    return ItemIdInput.read(
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), 1024, drop);
  }

  @Test
  void blankLinesCommentsAndCarriageReturnsAreSkipped() throws IOException {
    ItemIdInput in = read("# header\n\n a-1 \r\nb-2\n   \n#c\nc-3", false);
    assertThat(in.ids()).containsExactly("a-1", "b-2", "c-3");
    assertThat(in.valid()).isTrue();
  }

  @Test
  void overlongIdNamesItsLine() throws IOException {
    ItemIdInput in = read("ok\n" + "x".repeat(1025) + "\n", false);
    assertThat(in.valid()).isFalse();
    assertThat(in.errors()).containsExactly("line 2: the item ID is 1025 bytes, the limit is 1024");
  }

  /** A file saved with a byte order mark: before, the first ID was sent as "U+FEFF 123". */
  @Test
  void aLeadingByteOrderMarkIsNotPartOfTheFirstId() throws IOException {
    byte[] bytes = {
      (byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '1', '2', '3', '\n', '4', '5', '6', '\n'
    };
    ItemIdInput in = ItemIdInput.read(new ByteArrayInputStream(bytes), 1024, false);
    assertThat(in.valid()).isTrue();
    assertThat(in.ids()).containsExactly("123", "456");
  }

  @Test
  void bidiOverridesInAnIdNameItsLine() throws IOException {
    ItemIdInput in = read("ok\nfile\u202egnp.exe\n", false);
    assertThat(in.errors())
        .containsExactly("line 2: the item ID contains control character U+202E");
  }

  @Test
  void invalidUtf8NamesItsLine() throws IOException {
    byte[] bytes = {'a', '\n', 'b', (byte) 0xC3, '(', '\n'};
    ItemIdInput in = ItemIdInput.read(new ByteArrayInputStream(bytes), 1024, false);
    assertThat(in.errors()).containsExactly("line 2: not valid UTF-8");
  }

  @Test
  void duplicatesAreCountedAndKeptUnlessDropped() throws IOException {
    assertThat(read("a\nb\na\na\n", false).ids()).containsExactly("a", "b", "a", "a");
    ItemIdInput dropped = read("a\nb\na\na\n", true);
    assertThat(dropped.ids()).containsExactly("a", "b");
    assertThat(dropped.duplicates()).isEqualTo(2);
    assertThat(dropped.firstDuplicate()).contains("a");
  }

  @Test
  void controlCharactersInsideAnIdAreErrorsWhereverTheLineIsAscii() throws IOException {
    ItemIdInput in = read("ok-1\r\na\tb\nc\u007fd\ne\u0001\n\tok-2\t\nx\ry\nü\u0002\n", false);
    assertThat(in.ids()).containsExactly("ok-1", "ok-2");
    assertThat(in.errors())
        .containsExactly(
            "line 2: the item ID contains control character U+0009",
            "line 3: the item ID contains control character U+007F",
            "line 4: the item ID contains control character U+0001",
            "line 6: the item ID contains control character U+000D",
            "line 7: the item ID contains control character U+0002");
  }

  @Test
  void duplicatesAmongManyIdsAreFoundExactlyAcrossPartitions() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 200_000; i++) sb.append("id-").append(i).append('\n');
    for (int i = 0; i < 200_000; i += 1000) sb.append("id-").append(i).append('\n');
    ItemIdInput in = read(sb.toString(), true);
    assertThat(in.ids()).hasSize(200_000);
    assertThat(in.duplicates()).isEqualTo(200);
    assertThat(in.firstDuplicate()).contains("id-0");
  }

  @Test
  void aLargeInputReadInTwoHalvesKeepsOrderLineNumbersAndCrossHalfDuplicates() throws IOException {
    // Over TwoThreads.MIN_PARALLEL bytes: read as two halves split at a line's start.
    int n = 40_000;
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      if (i == 3 || i == 39_990) {
        sb.append("bad\u0001").append(i).append('\n');
      } else if (i == 39_999) {
        sb.append("item-5\n"); // a copy, in the second half, of an ID from the first
      } else {
        sb.append("item-").append(i).append('\n');
      }
    }
    assertThat(sb.length()).isGreaterThan(TwoThreads.MIN_PARALLEL);
    ItemIdInput in = read(sb.toString(), false);
    assertThat(in.errors())
        .containsExactly(
            "line 3: the item ID contains control character U+0001",
            "line 39990: the item ID contains control character U+0001");
    assertThat(in.ids()).hasSize(n - 2);
    assertThat(in.ids().get(0)).isEqualTo("item-1");
    assertThat(in.ids().get(n - 3)).isEqualTo("item-40000");
    assertThat(in.duplicates()).isEqualTo(1);
    assertThat(in.firstDuplicate()).contains("item-5");
    ItemIdInput dropped = read(sb.toString(), true);
    assertThat(dropped.ids()).hasSize(n - 3).doesNotHaveDuplicates();
  }

  @Test
  void nonAsciiIdsAreStrippedOfUnicodeSpaceAndALineOfOnlySuchSpaceIsAnError() throws IOException {
    ItemIdInput in = read("\u3000café-1\u2003\nplain\n\u3000\u3000\nnaïve\n", false);
    assertThat(in.ids()).containsExactly("café-1", "plain", "naïve");
    assertThat(in.errors())
        .containsExactly("line 3: the line holds only whitespace characters (no item ID)");
    ItemIdInput dup = read("café-1\n\u3000café-1\n", false);
    assertThat(dup.duplicates()).isEqualTo(1);
    assertThat(dup.firstDuplicate()).contains("café-1");
  }

  @Test
  void onlyTheFirstTenErrorsAreListedButAllAreCounted() throws IOException {
    ItemIdInput in = read("\u0001\n".repeat(25), false);
    assertThat(in.errors()).hasSize(10);
    assertThat(in.errorCount()).isEqualTo(25);
  }

  @Test
  void aRangeEndingAtTheLargestLongEndsThere() {
    java.util.Iterator<String> ids =
        ItemRange.parse("9223372036854775806..9223372036854775807").ids();
    java.util.List<String> out = new java.util.ArrayList<>();
    while (ids.hasNext() && out.size() < 10) out.add(ids.next());
    assertThat(out).containsExactly("9223372036854775806", "9223372036854775807");
  }

  @Test
  void rangeParsesAndRejectsBackwards() {
    assertThat(ItemRange.parse("1..20000").size()).isEqualTo(20000);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ItemRange.parse("5..1"))
        .hasMessageContaining("5..1");
  }
}
