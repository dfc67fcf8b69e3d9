package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LifecycleTest {
  @Test
  void aCleanStopGoesThroughDraining() {
    Lifecycle l = new Lifecycle();
    l.moveTo(Lifecycle.State.RUNNING);
    l.moveTo(Lifecycle.State.DRAINING);
    l.moveTo(Lifecycle.State.STOPPED);
    assertThat(l.alive()).isFalse();
    assertThat(l.fail()).as("a stopped worker does not fail afterwards").isFalse();
  }

  @Test
  void transitionsOffTheDiagramAreRefusedNamingBothStates() {
    Lifecycle l = new Lifecycle();
    assertThatThrownBy(() -> l.moveTo(Lifecycle.State.DRAINING))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("worker lifecycle cannot go from STARTING to DRAINING");
    assertThat(l.fail()).isTrue();
    assertThatThrownBy(() -> l.moveTo(Lifecycle.State.RUNNING))
        .hasMessageStartingWith("worker lifecycle cannot go from FAILED to RUNNING");
  }
}
