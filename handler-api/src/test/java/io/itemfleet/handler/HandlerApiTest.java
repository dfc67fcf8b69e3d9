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
}
