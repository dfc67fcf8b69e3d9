package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.TaskOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A message's tags add to its type's: the type's tags carry the fleet's limits (a downstream API's
 * rate, a database's connections), and any producer of the topic may set a message's options.
 */
class MessageTagsTest {
  private static final FleetConfig CONFIG =
      FleetConfig.parse(
          """
          types:
            t: {handler: noop, tags: [api]}
          limits:
            api: {rate: 5/s}
            extra: {concurrency: 2}
          """,
          TaskSettings.DEFAULTS);

  private static final TaskSettings TYPE = CONFIG.type("t").orElseThrow().settings();

  @Test
  void anEmptyTagListKeepsTheTypesLimits() {
    TaskSettings s = TYPE.with(TaskOptions.NONE.withTags(List.of()));
    assertThat(s.tags()).containsExactly("api");
    assertThat(CONFIG.limitsFor(s.tags())).extracting(TagLimit::tag).containsExactly("api");
  }

  @Test
  void aMessagesTagIsAddedNotSwappedForTheTypes() {
    TaskSettings s = TYPE.with(TaskOptions.NONE.withTags(List.of("extra", "api")));
    assertThat(s.tags()).containsExactly("api", "extra");
    assertThat(CONFIG.limitsFor(s.tags()))
        .extracting(TagLimit::tag)
        .containsExactlyInAnyOrder("api", "extra");
  }

  @Test
  void aTypeWithoutTagsTakesTheMessagesAsTheyAre() {
    TaskSettings s = TaskSettings.DEFAULTS.with(TaskOptions.NONE.withTags(List.of("extra")));
    assertThat(s.tags()).containsExactly("extra");
  }
}
