package io.itemfleet.worker;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The partitions assigned to this worker, each with its window of fetched records (see {@link
 * PartitionState}), and the count of records fetched and not yet committed over all of them. A
 * partition assigned again, or rewound, gets a new state with a new epoch, so that attempts of the
 * old one are recognised as revoked. Poll thread only.
 */
final class PartitionTable {
  private final Map<TopicPartition, PartitionState> states = new HashMap<>();

  /** Epochs handed out so far. */
  private long epochs;

  /** Records fetched and not yet committed, over all partitions. */
  private int held;

  /** The state of a partition, or null when it is not assigned here. */
  PartitionState get(TopicPartition tp) {
    return states.get(tp);
  }

  Collection<PartitionState> all() {
    return states.values();
  }

  Set<TopicPartition> partitions() {
    return states.keySet();
  }

  int size() {
    return states.size();
  }

  /** Records fetched and not yet committed. */
  int held() {
    return held;
  }

  /** A partition newly assigned: a fresh state with a new epoch. */
  void assign(TopicPartition tp) {
    states.put(tp, new PartitionState(tp, ++epochs));
  }

  /**
   * A partition revoked or lost: its attempts see {@code revoked} and their results are dropped.
   */
  void forget(TopicPartition tp) {
    PartitionState s = states.remove(tp);
    if (s != null) {
      s.revoked = true;
      held -= s.window.size();
    }
  }

  /** Appends a fetched record to its partition's window. */
  void fetched(PartitionState s, PartitionState.Slot slot) {
    s.window.add(slot);
    held++;
  }

  /** Takes the window's first slot when its result is in, else returns null. */
  PartitionState.Slot takeFinished(PartitionState s) {
    if (s.window.isEmpty() || !s.window.peekFirst().done()) return null;
    held--;
    return s.window.pollFirst();
  }

  /**
   * After a failed transaction: forgets all uncommitted work and seeks every partition back to its
   * committed offset (its beginning when it has none).
   */
  void rewind(Consumer<?, ?> consumer) {
    Set<TopicPartition> tps = new HashSet<>(states.keySet());
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(tps);
    for (TopicPartition tp : tps) {
      forget(tp);
      assign(tp);
      OffsetAndMetadata o = committed.get(tp);
      if (o != null) {
        consumer.seek(tp, o.offset());
      } else {
        consumer.seekToBeginning(List.of(tp));
      }
    }
  }
}
