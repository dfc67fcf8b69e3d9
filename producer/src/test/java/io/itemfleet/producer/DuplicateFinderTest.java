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

  /**
   * A produce file crafted so that every ID has the same hash under a fixed, known hash function
   * (the one used before hashes were seeded): all IDs fall into one partition and one probe chain,
   * and the check turns quadratic (150,000 such IDs took over 10 s; a million, hours). With a seed
   * chosen at random per check, the same IDs spread as any others do.
   */
  @Test
  void idsCraftedToCollideUnderAFixedHashDoNotMakeTheCheckQuadratic() {
    int n = 150_000;
    byte[] bytes = new byte[n * 17];
    long k = 0; // (state after the first word) ^ (second word), equal for every ID
    int made = 0;
    for (long counter = 0; made < n; counter++) {
      long w1 = printable(counter);
      long s1 = unseededStep(0x9E3779B97F4A7C15L ^ 16, w1);
      if (made == 0) k = s1 ^ printable(0);
      long w2 = s1 ^ k; // so that the second step sees the same value for every ID
      if (!isPrintable(w2)) continue;
      java.nio.ByteBuffer.wrap(bytes, made * 17, 16)
          .order(java.nio.ByteOrder.LITTLE_ENDIAN)
          .putLong(w1)
          .putLong(w2);
      bytes[made * 17 + 16] = '\n';
      made++;
    }
    IdSpans ids = new IdSpans(bytes, n);
    for (int i = 0; i < n; i++) ids.add(i * 17, i * 17 + 16, true);
    long first = unseededHash(bytes, 0);
    for (int i = 0; i < n; i += 997) assertThat(unseededHash(bytes, i * 17)).isEqualTo(first);
    assertThat(DuplicateFinder.hash(0, bytes, 0, 16)).isEqualTo(first); // seed 0: the old hash
    assertThat(ids.get(n - 1)).matches("[!-~]{16}");

    BitSet repeats =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(10), () -> DuplicateFinder.repeats(ids, false));
    assertThat(repeats.cardinality()).isZero(); // all distinct
  }

  /**
   * Eight printable ASCII bytes (! to ~) spelling {@code v} in base 94, as a little-endian word.
   */
  private static long printable(long v) {
    long w = 0;
    for (int i = 0; i < 8; i++) {
      w |= (long) ('!' + (int) (v % 94)) << (8 * i);
      v /= 94;
    }
    return w;
  }

  private static boolean isPrintable(long w) {
    for (int i = 0; i < 8; i++) {
      int b = (int) (w >>> (8 * i)) & 0xff;
      if (b < '!' || b > '~') return false;
    }
    return true;
  }

  /** One 8-byte step of the hash as it was before seeding. */
  private static long unseededStep(long h, long word) {
    h = (h ^ word) * 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 29);
  }

  /** The whole hash as it was before seeding, of the 16-byte ID at {@code at}. */
  private static long unseededHash(byte[] b, int at) {
    java.nio.ByteBuffer w = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long h = unseededStep(unseededStep(0x9E3779B97F4A7C15L ^ 16, w.getLong(at)), w.getLong(at + 8));
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }
}
