package io.itemfleet.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FleetTestKit.class)
class TopicAdminTest {
  @Test
  void missingTopicsAreCreatedOnceWithFittingSettings(TestFleet fleet) {
    FleetTopics topics = new FleetTopics(fleet.prefix());
    try (TopicAdmin admin =
        new TopicAdmin(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics, Duration.ofSeconds(15))) {
      assertThat(admin.ensureTopics(4, (short) 1))
          .containsExactlyInAnyOrderElementsOf(topics.all());
      assertThat(admin.ensureTopics(4, (short) 1)).isEmpty();
      var byName =
          admin.describe().stream()
              .collect(java.util.stream.Collectors.toMap(TopicAdmin.TopicInfo::name, t -> t));
      assertThat(byName.get(topics.tasks()).partitions()).isEqualTo(4);
      assertThat(byName.get(topics.jobs()).configs()).containsEntry("cleanup.policy", "compact");
      assertThat(byName.get(topics.failures()).configs())
          .containsEntry("retention.ms", "2592000000");
    }
  }

  @Test
  void scaleRaisesWorkTopicsAndRefusesToShrink(TestFleet fleet) {
    FleetTopics topics = new FleetTopics(fleet.prefix());
    try (TopicAdmin admin =
        new TopicAdmin(
            Map.of("bootstrap.servers", fleet.kafkaBootstrap()), topics, Duration.ofSeconds(15))) {
      admin.ensureTopics(2, (short) 1);
      assertThat(admin.scale(6)).containsExactlyElementsOf(topics.workTopics());
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () ->
                  assertThat(admin.describe())
                      .filteredOn(t -> t.name().equals(topics.tasks()))
                      .first()
                      .extracting(TopicAdmin.TopicInfo::partitions)
                      .isEqualTo(6));
      assertThatThrownBy(() -> admin.scale(3)).hasMessageContaining("only adds partitions");
    }
  }

  @Test
  void unreachableBrokerIsReportedWithItsAddress() {
    try (TopicAdmin admin =
        new TopicAdmin(
            Map.of("bootstrap.servers", "127.0.0.1:1"),
            new FleetTopics("x"),
            Duration.ofSeconds(2))) {
      assertThatThrownBy(() -> admin.checkReachable("127.0.0.1:1"))
          .isInstanceOf(BrokerUnreachableException.class)
          .hasMessageContaining("127.0.0.1:1");
    }
  }
}
