package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** How long an item of a type no handler knows is passed on, and what it carries meanwhile. */
class UnknownTypeTest {
  private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

  private static ItemResult run(Long sinceHeader) {
    WorkerSettings s =
        WorkerSettings.defaults(Map.of(), new FleetTopics("u"), "w", 4)
            .withUnknownTypeWindow(Duration.ofHours(1));
    FleetConfig config = FleetConfig.parse("types:\n  t: {handler: noop}\n", TaskSettings.DEFAULTS);
    ItemExecutor ex =
        new ItemExecutor(
            s,
            config,
            HandlerRegistry.create(config, Map.of()),
            Clock.fixed(NOW, ZoneOffset.UTC),
            null);
    ConsumerRecord<byte[], byte[]> r =
        new ConsumerRecord<>(
            "u.retry.30s",
            0,
            7,
            null,
            new MessageCodec().encodeTask(TaskMessage.of("j", "gone", "i")));
    if (sinceHeader != null) {
      r.headers()
          .add(
              FleetHeaders.UNKNOWN_SINCE,
              sinceHeader.toString().getBytes(StandardCharsets.US_ASCII));
    }
    PartitionState p = new PartitionState(new TopicPartition("u.retry.30s", 0), 1);
    return ex.run(new Attempt(p, new PartitionState.Slot(r), null));
  }

  @Test
  void firstSightingIsPassedOnAMinuteLaterStampedNowAndCountsNothing() {
    ItemResult r = run(null);
    assertThat(r.isDeferral()).isTrue();
    assertThat(r.unknownTypeSince()).isEqualTo(NOW.toEpochMilli());
    assertThat(r.retry().orElseThrow().notBefore()).contains(NOW.plusSeconds(60));
    assertThat(r.retry().orElseThrow().attempt()).isZero();
  }

  @Test
  void theFirstStampIsCarriedAndAFutureStampCountsAsNow() {
    long tenMinutesAgo = NOW.minusSeconds(600).toEpochMilli();
    assertThat(run(tenMinutesAgo).unknownTypeSince()).isEqualTo(tenMinutesAgo);
    assertThat(run(NOW.plus(Duration.ofDays(999)).toEpochMilli()).unknownTypeSince())
        .isEqualTo(NOW.toEpochMilli());
  }

  @Test
  void pastTheWindowItFailsNamingTheType() {
    ItemResult r = run(NOW.minus(Duration.ofMinutes(61)).toEpochMilli());
    assertThat(r.outcome()).contains(Outcome.FAILED);
    assertThat(r.failure().orElseThrow().errorClass()).isEqualTo("config.unknown_type");
    assertThat(r.failure().orElseThrow().errorMessage()).contains("unknown task type 'gone'");
  }
}
