package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.time.Clock;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A finished item's result waits in its partition's window until everything before it commits —
 * behind one slow item, tens of thousands of them. A handler's reply (a `process` child's line can
 * be 16 Mi characters) was kept whole in each: its result even when nothing stores it, its error
 * message though only 64 Ki characters of it are ever written, enough of them an OutOfMemoryError
 * on every restart. A result now keeps what can be used of the reply, and no more.
 */
class HeldResultsTest {
  private static final String BIG = "x".repeat(2_000_000);

  private static ItemResult run(String yaml, TaskHandler handler) {
    WorkerSettings s = WorkerSettings.defaults(Map.of(), new FleetTopics("h"), "w", 4);
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    ItemExecutor ex =
        new ItemExecutor(
            s,
            config,
            HandlerRegistry.create(config, Map.of("t", handler)),
            Clock.systemUTC(),
            null);
    ConsumerRecord<byte[], byte[]> r =
        new ConsumerRecord<>(
            "h.tasks", 0, 7, null, new MessageCodec().encodeTask(TaskMessage.of("j", "t", "i")));
    PartitionState p = new PartitionState(new TopicPartition("h.tasks", 0), 1);
    return ex.run(new Attempt(p, new PartitionState.Slot(r), null));
  }

  @Test
  void aResultNothingStoresIsNotKept() {
    ItemResult r = run("types:\n  t: {handler: noop}\n", ctx -> HandlerResult.succeeded(BIG));
    assertThat(r.outcome()).contains(Outcome.SUCCEEDED);
    assertThat(r.value().map(String::length)).isEmpty(); // (lengths: no 2 MB failure messages)
  }

  @Test
  void aStoredResultIsKeptUpToWhatTheCacheTakes() {
    String yaml = "types:\n  t: {handler: noop, persistResult: true}\n";
    String small = "y".repeat(RedisGate.MAX_CACHED_RESULT);
    assertThat(run(yaml, ctx -> HandlerResult.succeeded(small)).value()).contains(small);
    // Too long to cache: "1" is cached instead, as before; the result itself is not kept.
    assertThat(run(yaml, ctx -> HandlerResult.succeeded(BIG)).value().map(String::length))
        .isEmpty();
  }

  @Test
  void aFailureMessageIsKeptAsFarAsItIsWritten() {
    ItemResult r =
        run("types:\n  t: {handler: noop}\n", ctx -> HandlerResult.failed("e", "m" + BIG));
    assertThat(r.outcome()).contains(Outcome.FAILED);
    String message = r.failure().orElseThrow().errorMessage();
    assertThat(message.length()).isLessThanOrEqualTo(64 * 1024);
    assertThat(message.substring(0, 4)).isEqualTo("mxxx");
    assertThat(message.substring(message.length() - 1)).isEqualTo("…");
  }
}
