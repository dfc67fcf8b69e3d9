package io.itemfleet.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandlerApiTest {
  @Test
  void theApiLinksWithTheJdkAlone() throws Exception {
    URL classes =
        Path.of(TaskHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toUri()
            .toURL();
    try (URLClassLoader jdkOnly =
        new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
      for (String name :
          List.of(
              "TaskHandler",
              "TaskHandlerFactory",
              "HandlerResult",
              "HandlerResult$Succeeded",
              "HandlerResult$Retry",
              "HandlerResult$Failed",
              "TaskContext",
              "HandlerConfig")) {
        Class<?> c = Class.forName("io.itemfleet.handler." + name, true, jdkOnly);
        for (Method m : c.getDeclaredMethods()) { // resolves every signature's types
          assertThat(m.getReturnType()).isNotNull();
        }
      }
    }
  }

  @Test
  void typedGettersNameTheKeysPathAndUnreadKeysFailStartUp() {
    HandlerConfig c =
        HandlerConfig.of(
            "types.thumb", Map.of("url", "http://x", "timout", "5s", "size", 3, "every", "250ms"));
    assertThat(c.string("url")).isEqualTo("http://x");
    assertThat(c.integer("size", 1, 1, 10)).isEqualTo(3);
    assertThat(c.duration("every", Duration.ZERO)).isEqualTo(Duration.ofMillis(250));
    assertThat(c.duration("timeout", Duration.ofSeconds(9))).isEqualTo(Duration.ofSeconds(9));
    assertThatThrownBy(c::rejectUnread)
        .hasMessage(
            "types.thumb.timout: unknown key (this handler reads: every, size, timeout, url)");
    assertThatThrownBy(() -> c.integer("size", 1, 5, 10))
        .hasMessage("types.thumb.size: must be a whole number in [5, 10], was '3'");
    assertThatThrownBy(() -> HandlerConfig.of("types.t", Map.of("d", "5 s")).duration("d", null))
        .hasMessageStartingWith("types.t.d: not a duration: '5 s'");
  }

  /**
   * {@code succeeded(resp.header("ETag"))} with the header missing threw a NullPointerException in
   * the handler: the work, already done, was retried, and in the end FAILED. A null result is none
   * now, as a null message is "" and a null delay the configured one.
   */
  @Test
  void nullsGivenToTheResultsMeanNone() {
    assertThat(HandlerResult.succeeded(null))
        .isEqualTo(new HandlerResult.Succeeded(java.util.Optional.empty()));
    assertThat(new HandlerResult.Succeeded(null).result()).isEmpty();
    assertThat(HandlerResult.retryAfter("c", null, null))
        .isEqualTo(new HandlerResult.Retry("c", "", java.util.Optional.empty()));
  }

  /**
   * YAML gives a number past a long as a BigInteger, whose longValue() wraps: a limit of
   * 18446744073709551617 passed a [1, 10] check as 1. And a value of the wrong kind now says which
   * kind YAML read (a quoted "320" is text).
   */
  @Test
  void integersAreComparedExactlyAndWrongKindsSayWhatTheyWere() {
    HandlerConfig c =
        HandlerConfig.of(
            "types.t",
            Map.of(
                "limit",
                new java.math.BigInteger("18446744073709551617"),
                "width",
                "320",
                "ratio",
                2.0,
                "half",
                2.5,
                "on",
                "true"));
    assertThatThrownBy(() -> c.integer("limit", 1, 1, 10))
        .hasMessage("types.t.limit: must be a whole number in [1, 10], was '18446744073709551617'");
    assertThatThrownBy(() -> c.integer("width", 1, 16, 4096))
        .hasMessage("types.t.width: must be a whole number in [16, 4096], was '320' (String)");
    assertThat(c.integer("ratio", 1, 1, 10)).isEqualTo(2);
    assertThatThrownBy(() -> c.integer("half", 1, 1, 10)).hasMessageContaining("was '2.5'");
    assertThatThrownBy(() -> c.bool("on", false))
        .hasMessage("types.t.on: must be true or false, was 'true' (String)");
  }
}
