package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.schemas.TaskMessage;
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
  void unknownVariableIsNamed() {
    assertThatThrownBy(() -> KeyTemplate.validate("${job}:${itme}"))
        .hasMessageContaining("${itme}");
  }
}
