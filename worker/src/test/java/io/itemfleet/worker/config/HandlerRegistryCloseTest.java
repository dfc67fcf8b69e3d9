package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The CLI's main and its shutdown hook may both close the handlers once the worker stopped; a
 * handler's close ran once per call, on two threads at once, and one that blocked kept the process
 * from ending.
 */
class HandlerRegistryCloseTest {
  /** A handler that counts its closes, blocking in them while {@code hold} is up. */
  static final class Closing implements TaskHandler, AutoCloseable {
    final AtomicInteger closes = new AtomicInteger();
    final CountDownLatch hold;

    Closing(CountDownLatch hold) {
      this.hold = hold;
    }

    @Override
    public HandlerResult handle(TaskContext context) {
      return HandlerResult.succeeded();
    }

    @Override
    public void close() throws InterruptedException {
      closes.incrementAndGet();
      hold.await();
    }
  }

  @Test
  void handlersCloseOnceAndABlockingCloseIsNotWaitedForLong() throws Exception {
    Closing shared = new Closing(new CountDownLatch(0));
    CountDownLatch forever = new CountDownLatch(1);
    Closing stuck = new Closing(forever);
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    HandlerRegistry r =
        HandlerRegistry.create(config, Map.of("a", shared, "b", shared, "c", stuck));
    long t0 = System.nanoTime();
    Thread other = Thread.ofPlatform().start(() -> r.close(Duration.ofMillis(500)));
    r.close(Duration.ofMillis(500));
    other.join();
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
    assertThat(shared.closes.get()).as("one instance under two types, two calls").isEqualTo(1);
    assertThat(stuck.closes.get()).isEqualTo(1);
    forever.countDown();
  }

  /**
   * The shutdown hook's call lost the race to main's and returned at once, while main's still
   * waited for the handlers: the hook ended, the JVM halted, and the closing threads died with it.
   */
  @Test
  void aSecondCloseWaitsForTheFirst() throws Exception {
    CountDownLatch slow = new CountDownLatch(1);
    Closing closing = new Closing(slow);
    HandlerRegistry r =
        HandlerRegistry.create(FleetConfig.empty(TaskSettings.DEFAULTS), Map.of("a", closing));
    Thread first = Thread.ofPlatform().start(() -> r.close(Duration.ofSeconds(10)));
    while (closing.closes.get() == 0) Thread.sleep(5); // the first call is closing it
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                Thread.sleep(300);
              } catch (InterruptedException e) {
                return;
              }
              slow.countDown(); // its close ends 300 ms from now
            });
    r.close(Duration.ofSeconds(10));
    assertThat(slow.getCount()).as("the second call returned after the close ended").isZero();
    first.join();
  }
}
