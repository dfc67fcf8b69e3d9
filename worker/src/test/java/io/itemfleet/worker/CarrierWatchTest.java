package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Handlers spinning on the CPU past their time-out can hold every virtual-thread carrier; then no
 * lane runs again. Before, nothing noticed: /health said 200 (its thread froze too, later), the TCP
 * liveness probe passed, and the worker stayed frozen for ever. {@link CarrierWatch} turns {@code
 * /live} to 503 then, and only then: not for CPU work without an overdue handler.
 */
class CarrierWatchTest {
  @Test
  void everyCarrierHeldWithHandlersOverdueIsStarvedAndNothingElseIs() throws Exception {
    AtomicLong overdue = new AtomicLong();
    AtomicBoolean spin = new AtomicBoolean(true);
    List<Thread> spinners = new ArrayList<>();
    try (CarrierWatch watch =
        new CarrierWatch(Duration.ofMillis(50), Duration.ofMillis(300), overdue::get)) {
      Thread.sleep(200);
      assertThat(watch.starved()).isFalse();
      int carriers =
          Integer.getInteger(
              "jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
      for (int i = 0; i < carriers; i++) {
        spinners.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      long x = 0;
                      while (spin.get()) x += System.nanoTime() % 7;
                    }));
      }
      Thread.sleep(800); // carriers held, but no handler is overdue: busy, not stuck
      assertThat(watch.starved()).isFalse();
      overdue.set(1);
      await().atMost(Duration.ofSeconds(3)).until(watch::starved);
      spin.set(false);
      await().atMost(Duration.ofSeconds(3)).until(() -> !watch.starved());
    } finally {
      spin.set(false);
      for (Thread t : spinners) t.join(5_000);
    }
  }
}
