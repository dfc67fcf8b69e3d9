package io.itemfleet.recorder;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FingerprintTest {
  @Test
  void itemsNumbersAndIdsDoNotSplitAGroup() {
    String a =
        Fingerprint.normalise("POST /process/video-123 returned 503 after 2500 ms", "video-123");
    String b = Fingerprint.normalise("POST /process/video-9 returned 503 after 31 ms", "video-9");
    assertThat(a).isEqualTo(b).isEqualTo("POST /process/<item> returned # after # ms");
    assertThat(Fingerprint.of("http.503", a)).isEqualTo(Fingerprint.of("http.503", b)).hasSize(12);
  }

  @Test
  void numericItemIdsOfAnyLengthShareAGroup() {
    assertThat(Fingerprint.normalise("simulated failure of item 9", "9"))
        .isEqualTo(Fingerprint.normalise("simulated failure of item 19938", "19938"))
        .isEqualTo("simulated failure of item #");
  }

  @Test
  void differentCausesDiffer() {
    String a = Fingerprint.normalise("connection refused", "x1");
    String b = Fingerprint.normalise("connection reset", "x1");
    assertThat(Fingerprint.of("io", a)).isNotEqualTo(Fingerprint.of("io", b));
    assertThat(Fingerprint.of("io", a)).isNotEqualTo(Fingerprint.of("timeout", a));
  }

  @Test
  void uuidsHexAndQuotedValuesAreMasked() {
    assertThat(
            Fingerprint.normalise(
                "user 'alice' not found in 1b4e28ba-2fa1-11d2-883f-0016d3cca427 at 0x7ffe3a2b",
                null))
        .isEqualTo("user '…' not found in <uuid> at <hex>");
  }

  /**
   * A message a handler controls (up to 64 KiB after the worker's cut; 1 MiB from any Kafka client)
   * with a long run of hex digits ending next to a word character: the hex pattern backtracked
   * three nested runs (cubic), so normalising one such message took hours, inside the ledger
   * transaction that holds every partition's row — the recorder stalled for good on it. The time
   * limit is a hang guard, far above what normalising takes.
   */
  @Test
  @org.junit.jupiter.api.Timeout(
      value = 20,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void hostileMessagesNormaliseInLinearTime() {
    for (String hostile :
        new String[] {
          "1a".repeat(32_768) + "g", "1".repeat(65_536) + "_", "x=\"" + "9".repeat(65_536)
        }) {
      String n = Fingerprint.normalise(hostile, "item-1");
      assertThat(n.length()).isLessThanOrEqualTo(300);
    }
    // What the hex mask does is unchanged: a digit then a letter, 8 characters or more.
    assertThat(Fingerprint.normalise("at 0x7ffe3a2b and 12deadbeef", null))
        .isEqualTo("at <hex> and <hex>");
    assertThat(Fingerprint.normalise("deadbeef12 and 1a2b and cafe", null))
        .isEqualTo("deadbeef12 and 1a2b and cafe");
    assertThat(Fingerprint.normalise("id 123abc and 12.5 and 7", null))
        .isEqualTo("id 123abc and # and #");
  }
}
