package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RedactionTest {
  @Test
  void userInfoAndSecretParametersAreMasked() {
    assertThat(Redaction.text("redis://default:SECRET@host:6379/0"))
        .isEqualTo("redis://***@host:6379/0");
    assertThat(
            Redaction.text("jdbc:postgresql://db:5432/fleet?user=postgres&password=SECRET&ssl=1"))
        .isEqualTo("jdbc:postgresql://db:5432/fleet?user=postgres&password=***&ssl=1");
    assertThat(Redaction.text("HTTP 301 from http://user:SECRET@svc/x?api_key=K&a=1: moved"))
        .isEqualTo("HTTP 301 from http://***@svc/x?api_key=***&a=1: moved");
    assertThat(Redaction.text("plain text, no secrets")).isEqualTo("plain text, no secrets");
    assertThat(Redaction.text("mail me at a@b.c")).isEqualTo("mail me at a@b.c");
  }

  @Test
  void failureEventsNeverCarryASecretInTheirMessageOrStackTrace() {
    FailureEvent f =
        FailureEvent.failed(
                TaskMessage.of("j", "t", "i"),
                1,
                false,
                "http.301",
                "HTTP 301 from http://u:SECRET@svc/",
                Instant.EPOCH,
                Optional.empty())
            .withStackTrace(Optional.of("java.io.IOException: connect redis://:SECRET@r:6379"));
    String encoded =
        new String(new MessageCodec().encodeFailure(f), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(encoded).doesNotContain("SECRET").contains("http://***@svc/");
  }

  /**
   * Text a handler controls (a failure message, before the 64 KiB cut; a process child's reply line
   * can be 16 MiB) with one parameter and a long name full of keywords and no '=': the pattern
   * rescanned the rest at every keyword (quadratic), so one failure event took minutes on a lane
   * and again in the recorder. The time limit is a hang guard, far above what redaction takes.
   */
  @Test
  @org.junit.jupiter.api.Timeout(
      value = 20,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void hostileTextIsRedactedInLinearTime() {
    String hostile = "a=b&" + "pwd".repeat(400_000);
    assertThat(Redaction.text(hostile)).isEqualTo(hostile);
    String names = "x=1&" + "password-".repeat(100_000) + "=SECRET&y=2";
    assertThat(Redaction.text(names)).doesNotContain("SECRET").endsWith("=***&y=2");
    // The rule itself is unchanged.
    assertThat(Redaction.text("jdbc:postgresql://h/db?user=app&PassWord=s3&ssl=true;apiKey=k#x"))
        .isEqualTo("jdbc:postgresql://h/db?user=app&PassWord=***&ssl=true;apiKey=***#x");
    assertThat(Redaction.text("?my_token=a b&db.password=\"q\"&keyring=1&pwdx=9"))
        .isEqualTo("?my_token=*** b&db.password=***\"q\"&keyring=1&pwdx=***");
  }

  /** The one-pass masking does what the pattern it replaced did, on 200,000 random short texts. */
  @Test
  void secretParametersAreMaskedAsTheOldPatternDid() {
    java.util.regex.Pattern old =
        java.util.regex.Pattern.compile(
            "(?i)([?&;](?:[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|apikey|api_key|"
                + "access_key|sslkey)[a-z0-9_.-]*)=)[^&;#\\s\"']*");
    String alphabet = "?&;=#'\" \tpaswordPWDSECRETtokenapi_key.-xX1";
    java.util.Random rnd = new java.util.Random(7);
    for (int i = 0; i < 200_000; i++) {
      StringBuilder b = new StringBuilder("=");
      int n = rnd.nextInt(40);
      for (int k = 0; k < n; k++) b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
      if (rnd.nextBoolean()) b.insert(rnd.nextInt(b.length()), "&password=");
      String t = b.toString();
      assertThat(Redaction.text(t))
          .as("%s", t)
          .isEqualTo(old.matcher(t).replaceAll("$1" + Redaction.MASK));
    }
  }
}
