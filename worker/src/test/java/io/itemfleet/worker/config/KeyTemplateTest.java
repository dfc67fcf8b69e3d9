package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.schemas.TaskMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyTemplateTest {
  @Test
  void plainNamesMakePlainKeys() {
    assertThat(KeyTemplate.defaultKey("job-1", "item-7")).isEqualTo("job-1:item-7");
    assertThat(KeyTemplate.expand("${job}:${item}", TaskMessage.of("job-1", "sim", "item-7")))
        .isEqualTo("job-1:item-7");
  }

  @Test
  void colonsInJobOrItemCannotMakeTwoItemsShareAKey() {
    assertThat(KeyTemplate.defaultKey("a:b", "c")).isEqualTo("a\\:b:c");
    assertThat(KeyTemplate.defaultKey("a", "b:c")).isEqualTo("a:b\\:c");
    assertThat(KeyTemplate.defaultKey("a\\", ":b"))
        .isNotEqualTo(KeyTemplate.defaultKey("a\\:", "b"));
  }

  @Test
  void templatesEscapeEveryValueTheSameWay() {
    TaskMessage t = TaskMessage.of("j", "t:1", "x:y");
    assertThat(KeyTemplate.expand("${type}:${item}", t)).isEqualTo("t\\:1:x\\:y");
    assertThat(KeyTemplate.expand("${job}:${item}", t))
        .isEqualTo(KeyTemplate.defaultKey("j", "x:y"));
  }

  @Test
  void aTemplateEveryItemWouldShareIsRefusedAtStart() {
    // Before, these were accepted as constant keys: every item of the type after the first was
    // DEDUPLICATED (or CACHED) without running, for the idempotency TTL — work silently skipped.
    for (String shared :
        List.of("$job:$item", "${job}:${item", "fixed", "${job}", "${type}:x", "$")) {
      assertThatThrownBy(() -> KeyTemplate.validate(shared))
          .as(shared)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(shared);
    }
    assertThatThrownBy(() -> KeyTemplate.validate("$job:$item"))
        .hasMessageContaining("'$' not followed by {");
    assertThatThrownBy(() -> KeyTemplate.validate("${job}"))
        .hasMessageContaining("neither ${item} nor ${payloadHash}");
    // A constant key in a whole fleet.yaml is refused too, naming the setting.
    assertThatThrownBy(
            () ->
                FleetConfig.parse(
                    "defaults: {idempotencyKey: '$job:$item'}\ntypes:\n  t: {handler: noop}\n",
                    TaskSettings.DEFAULTS))
        .hasMessageContaining("idempotencyKey");
    for (String fine :
        List.of("${job}:${item}", "${type}:${item}", "${payloadHash}", "v2:${item}")) {
      KeyTemplate.validate(fine);
    }
  }

  @Test
  void aMessagesOwnCacheKeyIsPlainTextAndNeverRefusedAsATemplate() {
    // The first version of the check above ran in TaskSettings' constructor, which also takes a
    // message's own cache key ("process-video:123", filled in by fleet produce): every item sent
    // with one ended FAILED task.bad_options without running.
    TaskSettings s =
        TaskSettings.DEFAULTS.with(
            io.itemfleet.schemas.TaskOptions.NONE.withCacheKey("process-video:123"));
    assertThat(s.cacheKey()).hasValue("process-video:123");
    assertThatThrownBy(
            () ->
                FleetConfig.parse(
                    "types:\n  t: {handler: noop, cache: {key: '${type}'}}\n",
                    TaskSettings.DEFAULTS))
        .hasMessageContaining("types.t.cache.key: key template '${type}' names neither");
  }

  @Test
  void unknownVariableIsNamed() {
    assertThatThrownBy(() -> KeyTemplate.validate("${job}:${itme}"))
        .hasMessageContaining("${itme}");
  }
}
