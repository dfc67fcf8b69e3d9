package io.itemfleet.producer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DuplicateFinderTest {
  /** The IDs as spans of one byte array, the way {@link ItemIdInput} holds them. */
  private static IdSpans spans(List<String> ids) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    List<int[]> at = new ArrayList<>();
    for (String id : ids) {
      byte[] b = id.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      at.add(new int[] {out.size(), out.size() + b.length});
      out.writeBytes(b);
      out.write('\n');
    }
    IdSpans s = new IdSpans(out.toByteArray(), ids.size());
    for (int i = 0; i < ids.size(); i++) {
      s.add(at.get(i)[0], at.get(i)[1], ids.get(i).chars().allMatch(c -> c < 0x80));
    }
    for (int i = 0; i < ids.size(); i += Math.max(1, ids.size() / 100)) {
      assertThat(s.get(i)).isEqualTo(ids.get(i));
    }
    return s;
  }

  /** What {@link DuplicateFinder#repeats} must return: every copy after an ID's first. */
  private static BitSet expected(List<String> ids) {
    Set<String> seen = new HashSet<>();
    BitSet b = new BitSet();
    for (int i = 0; i < ids.size(); i++) {
      if (!seen.add(ids.get(i))) b.set(i);
    }
    return b;
  }

  @Test
  void matchesASetOnRandomInputsOfEverySize() {
    Random r = new Random(16);
    for (int n : new int[] {0, 1, 2, 3, 100, 4_095, 4_096, 8_193, 70_000, 300_000}) {
      List<String> ids = new ArrayList<>(n);
      int distinct = Math.max(1, n / 3 * 2);
      for (int i = 0; i < n; i++) ids.add("item-" + r.nextInt(distinct));
      BitSet want = expected(ids);
      IdSpans s = spans(ids);
      assertThat(DuplicateFinder.repeats(s, false)).as("n=%d, one thread", n).isEqualTo(want);
      assertThat(DuplicateFinder.repeats(s, true)).as("n=%d, two threads", n).isEqualTo(want);
    }
  }

  @Test
  void oneIdRepeatedEverywhereKeepsOnlyItsFirstCopy() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) ids.add(i % 7 == 3 ? "other-" + i : "same");
    BitSet repeats = DuplicateFinder.repeats(spans(ids), true);
    assertThat(repeats).isEqualTo(expected(ids));
    assertThat(repeats.get(0)).isFalse();
    assertThat(repeats.cardinality()).isEqualTo(50_000 - 7_143 - 1);
  }

  @Test
  void idsThatDifferInOneByteAnywhereAreNotDuplicates() {
    List<String> ids = new ArrayList<>();
    String base = "videos/2026/11/29/camera-07/frame-000123.jpg";
    for (int at = 0; at < base.length(); at++) {
      for (char c : new char[] {'x', 'é', '0'}) {
        ids.add(base.substring(0, at) + c + base.substring(at + 1));
      }
    }
    ids.add(base);
    ids.add(base.substring(0, 7)); // shorter than one 8-byte word
    ids.add(base.substring(0, 8));
    ids.add(base.substring(0, 9));
    ids.add(base); // the one true duplicate
    BitSet want = expected(ids);
    assertThat(want.cardinality()).isGreaterThan(0);
    assertThat(DuplicateFinder.repeats(spans(ids), false)).isEqualTo(want);
  }

  @Test
  void stringsWithEqualJavaHashCodesAreNotDuplicates() {
    // "Aa" and "BB" share String.hashCode; so does every concatenation of them.
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 1 << 12; i++) {
      StringBuilder sb = new StringBuilder();
      for (int bit = 0; bit < 12; bit++) sb.append((i >> bit & 1) == 0 ? "Aa" : "BB");
      ids.add(sb.toString());
    }
    assertThat(ids.stream().map(String::hashCode).distinct()).hasSize(1);
    ids.add(ids.get(17));
    BitSet repeats = DuplicateFinder.repeats(spans(ids));
    assertThat(repeats.cardinality()).isEqualTo(1);
    assertThat(repeats.get(ids.size() - 1)).isTrue();
  }
}
