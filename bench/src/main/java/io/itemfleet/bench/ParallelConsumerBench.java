package io.itemfleet.bench;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.CommitMode;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelEoSStreamProcessor;
import io.itemfleet.schemas.FleetTopics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Confluent Parallel Consumer (UNORDERED, same concurrency) draining the same kind of backlog, as
 * the reference point. Timed like our worker: from start until the group's committed
 * offsets cover the whole backlog. Commit interval 100 ms, as ours.
 */
final class ParallelConsumerBench {
  private ParallelConsumerBench() {}

  /** Seconds to process and commit the backlog; {@code firstStart} as in WorkerBench. */
  static double drain(
      String bootstrap,
      FleetTopics topics,
      int items,
      int concurrency,
      Consumer<byte[]> handler,
      AtomicLong firstStart)
      throws Exception {
    String group = "pc-" + System.nanoTime();
    Map<String, Object> props = WorkerBench.plainConsumer(bootstrap, group);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    ParallelConsumerOptions<byte[], byte[]> options =
        ParallelConsumerOptions.<byte[], byte[]>builder()
            .consumer(consumer)
            .ordering(ProcessingOrder.UNORDERED)
            .maxConcurrency(concurrency)
            .commitMode(CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
            .commitInterval(Duration.ofMillis(100))
            .build();
    long t0 = System.nanoTime();
    ParallelEoSStreamProcessor<byte[], byte[]> pc = new ParallelEoSStreamProcessor<>(options);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      pc.subscribe(List.of(topics.tasks()));
      pc.poll(ctx -> handler.accept(ctx.getSingleConsumerRecord().value()));
      while (WorkerBench.committed(admin, group, topics.tasks()) < items) {
        if (pc.isClosedOrFailed()) {
          throw new IllegalStateException("Parallel Consumer failed: " + pc.getFailureCause());
        }
        Thread.sleep(5);
      }
      long from = firstStart.get() == 0 ? t0 : firstStart.get();
      return (System.nanoTime() - from) / 1e9;
    } finally {
      pc.close();
    }
  }
}
