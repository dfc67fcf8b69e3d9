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
}
