package io.itemfleet.worker;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The per-item pieces of Redis keys the gate now builds once and reuses (bucket keys per job, the
 * lease value up to the offset per assignment) are the very strings it built per item before, and
 * the lease tracker, now the gate thread's alone, still gives up runaways while it is iterated.
 */
class GateKeysReuseTest {

  @Test
  void bucketKeysAreThoseTheLayoutPlacesItemsIn() {
    MarkerLayout layout = MarkerLayout.buckets(16);
    BucketKeys keys = new BucketKeys();
    // Jobs alternate; names with the escaped characters of the default key (':' and '\').
    for (String job : List.of("j1", "a:b", "j1", "c\\d", "j1")) {
      for (int i = 0; i < 200; i++) {
        String item = "item-" + i;
        MarkerLayout.Place before = layout.place("fleet:", "unused", Optional.of(job), item);
        BucketKeys.Key key = keys.key(layout, "fleet:", job, layout.bucket(item));
        assertThat(key.text()).isEqualTo(before.key());
        assertThat(key.bytes().getRaw()).isEqualTo(before.key().getBytes(UTF_8));
      }
    }
    // More jobs than are remembered: forgotten and built again, the same keys.
    int jobs = BucketKeys.MAX_KEYS / layout.bucketsPerJob();
    for (int j = 0; j < 3 * jobs; j++) {
      String job = "job-" + (j % (jobs + 7));
      assertThat(keys.key(layout, "fleet:", job, layout.bucket("i")).text())
          .isEqualTo(layout.place("fleet:", "unused", Optional.of(job), "i").key());
    }
    // Past the remembered bucket count: built each time, still the same key.
    MarkerLayout wide = MarkerLayout.buckets(BucketKeys.MAX_BUCKETS + 1);
    BucketKeys.Key w = keys.key(wide, "fleet:", "j1", wide.bucket("x"));
    assertThat(w.text()).isEqualTo(wide.place("fleet:", "unused", Optional.of("j1"), "x").key());
    assertThat(w.bytes().getRaw()).isEqualTo(w.text().getBytes(UTF_8));
  }

  @Test
  void leaseValuesAreBuiltAsBeforeForEachOwnerAndOffset() {
    PartitionState s = new PartitionState(new TopicPartition("fleet.tasks", 7), 42);
    assertThat(s.lease("w1", 5)).isEqualTo("L|w1#42|fleet.tasks|7|5");
    assertThat(s.lease("w1", 123456789012L)).isEqualTo("L|w1#42|fleet.tasks|7|123456789012");
    assertThat(s.lease("w12", 5)).isEqualTo("L|w12#42|fleet.tasks|7|5");
    assertThat(s.lease("w1", 6)).isEqualTo("L|w1#42|fleet.tasks|7|6");
    // The claim's bytes: the same value and "|", for every number of digits, and for a non-ASCII
    // topic and owner.
    PartitionState u = new PartitionState(new TopicPartition("fléet.tâsks", 3), 9);
    for (long offset : new long[] {0, 7, 9, 10, 99, 100, 123456789012L, Long.MAX_VALUE}) {
      for (PartitionState p : List.of(s, u)) {
        for (String owner : List.of("w1", "wörker|x")) {
          assertThat(new String(p.leaseBytes(owner, offset), UTF_8))
              .isEqualTo(p.lease(owner, offset) + "|");
        }
      }
    }
  }

  @Test
  void runawaysAreGivenUpWhileTheTrackerIsIterated() {
    LeaseTracker t = new LeaseTracker();
    PartitionState s = new PartitionState(new TopicPartition("fleet.tasks", 0), 1);
    List<Attempt> all = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Attempt a = attempt(s, i);
      a.deadlineNanos = 0;
      a.overdue = i % 2 == 0;
      t.held(a);
      all.add(a);
    }
    List<Attempt> given = t.runaways(1_000_000_000L, 1);
    assertThat(given).hasSize(25).allMatch(a -> a.overdue);
    assertThat(t.size()).isEqualTo(25);
    assertThat(t.runaways(1_000_000_000L, 1)).isEmpty();
  }

  @Test
  void theLeaseListHoldsEachAttemptOnceAndUnlinksFromAnyPlace() {
    LeaseTracker t = new LeaseTracker();
    PartitionState s = new PartitionState(new TopicPartition("fleet.tasks", 0), 1);
    List<Attempt> a = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      a.add(attempt(s, i));
      t.held(a.get(i));
    }
    t.held(a.get(2)); // twice: still once
    assertThat(t.size()).isEqualTo(6);
    t.ended(a.get(0)); // head
    t.ended(a.get(5)); // tail
    t.ended(a.get(3)); // middle
    t.ended(a.get(3)); // not held any more: nothing happens
    assertThat(t.all()).containsExactly(a.get(1), a.get(2), a.get(4));
    assertThat(t.toRenew(java.util.Set.of(a.get(2)))).containsExactly(a.get(1), a.get(4));
    t.lostAtRenewal(a.get(4));
    t.lostAtRenewal(a.get(4));
    assertThat(t.lost()).isEqualTo(1);
    t.held(a.get(0)); // taken again after it ended: at the end
    assertThat(t.all()).containsExactly(a.get(1), a.get(2), a.get(0));
    t.ended(a.get(1));
    t.ended(a.get(2));
    t.ended(a.get(0));
    assertThat(t.isEmpty()).isTrue();
    assertThat(t.all()).isEmpty();
  }

  @Test
  void plainMarkerBytesAreTheMarkerTextsBytes() {
    for (String topic : List.of("fleet.tasks", "fleet.retry.5s", "other.tasks", "fléet.tasks")) {
      GateCalls calls =
          new GateCalls(
              java.net.URI.create("redis://127.0.0.1:1"),
              30_000,
              MarkerLayout.buckets(16),
              "fleet",
              3);
      for (int partition : new int[] {0, 9, 10, 1234}) {
        PartitionState s = new PartitionState(new TopicPartition(topic, partition), 1);
        for (long offset : new long[] {0, 5, 10, 99, 123456789012L, Long.MAX_VALUE}) {
          for (int attempt : new int[] {0, 1, 9, 999}) {
            for (io.itemfleet.schemas.Outcome o : io.itemfleet.schemas.Outcome.values()) {
              Attempt a =
                  new Attempt(
                      s,
                      new PartitionState.Slot(
                          new ConsumerRecord<>(topic, partition, offset, new byte[0], new byte[0])),
                      null);
              a.decoded =
                  new io.itemfleet.schemas.TaskMessage(
                      "j",
                      "t",
                      "i",
                      attempt,
                      Optional.empty(),
                      com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
                      io.itemfleet.schemas.TaskOptions.NONE);
              ItemResult r =
                  ItemResult.terminal(
                      o, "j", "t", false, 0, Optional.empty(), java.time.Instant.EPOCH);
              assertThat(new String(calls.markerBytes(a, r), UTF_8))
                  .isEqualTo(calls.markerText(a, r));
            }
          }
        }
      }
    }
  }

  /** An attempt at the record at {@code offset} of partition 0. */
  private static Attempt attempt(PartitionState s, long offset) {
    return new Attempt(
        s,
        new PartitionState.Slot(
            new ConsumerRecord<>("fleet.tasks", 0, offset, new byte[0], new byte[0])),
        null);
  }
}
