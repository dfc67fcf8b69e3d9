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
}
