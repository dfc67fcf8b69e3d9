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
      assertThat(DuplicateFinder.repeats(ids, false)).as("n=%d, one thread", n).isEqualTo(want);
      assertThat(DuplicateFinder.repeats(ids, true)).as("n=%d, two threads", n).isEqualTo(want);
    }
  }

  @Test
  void oneIdRepeatedEverywhereKeepsOnlyItsFirstCopy() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) ids.add(i % 7 == 3 ? "other-" + i : "same");
    BitSet repeats = DuplicateFinder.repeats(ids, true);
    assertThat(repeats).isEqualTo(expected(ids));
    assertThat(repeats.get(0)).isFalse();
    assertThat(repeats.cardinality()).isEqualTo(50_000 - 7_143 - 1);
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
    BitSet repeats = DuplicateFinder.repeats(ids);
    assertThat(repeats.cardinality()).isEqualTo(1);
    assertThat(repeats.get(ids.size() - 1)).isTrue();
  }
}
