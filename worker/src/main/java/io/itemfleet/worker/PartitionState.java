package io.itemfleet.worker;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One assigned partition, owned by the poll thread. A new object per assignment: its {@link #epoch}
 * stamps every attempt, and results of an attempt whose state is no longer current are dropped, so
 * work from a revoked partition is never committed.
 */
final class PartitionState {
  /** The partition. */
  final TopicPartition partition;

  /** Assignment epoch, unique within the worker. */
  final long epoch;

  /** Every record fetched and not yet committed, in offset order. */
  final ArrayDeque<Slot> window = new ArrayDeque<>();

  /** Records fetched but not yet handed to a lane, in offset order. */
  final ArrayDeque<Attempt> waiting = new ArrayDeque<>();

  /** Set when the partition is revoked or lost; read by lanes, which then skip its attempts. */
  volatile boolean revoked;

  /** Whether the poll thread has paused fetching for it. */
  boolean paused;

  /** Retry records held in memory until due. */
  int delayed;

  /**
   * Held retry records due later than the in-memory horizon; fetching pauses while any are held.
   */
  int farDelayed;

  private record LeasePrefix(String owner, String text, byte[] bytes) {}

  /** The lease value up to the record's offset, built once per assignment; see {@link #lease}. */
  private volatile LeasePrefix leasePrefix;

  /**
   * The lease value of a record of this partition taken by {@code owner} in this assignment: {@code
   * L|<owner>#<epoch>|<topic>|<partition>|<offset>}. All but the offset is the same for every
   * record of the assignment and is built once (read by the poll and gate threads; a race at worst
   * builds it twice).
   */
  String lease(String owner, long offset) {
    return leasePrefix(owner).text() + offset;
  }

  /**
   * {@link #lease} followed by "|", as UTF-8 bytes: the start of the value a bucket claim writes
   * (its deadline follows), built without a string of its own.
   */
  byte[] leaseBytes(String owner, long offset) {
    if (offset < 0) return (lease(owner, offset) + "|").getBytes(StandardCharsets.UTF_8);
    byte[] prefix = leasePrefix(owner).bytes();
    int end = prefix.length + Digits.count(offset);
    byte[] out = Arrays.copyOf(prefix, end + 1);
    Digits.putBefore(out, end, offset);
    out[end] = '|';
    return out;
  }

  private LeasePrefix leasePrefix(String owner) {
    LeasePrefix p = leasePrefix;
    if (p == null || !p.owner().equals(owner)) {
      String text =
          RedisGate.LEASE
              + owner
              + "#"
              + epoch
              + "|"
              + partition.topic()
              + "|"
              + partition.partition()
              + "|";
      p = new LeasePrefix(owner, text, text.getBytes(StandardCharsets.UTF_8));
      leasePrefix = p;
    }
    return p;
  }

  PartitionState(TopicPartition partition, long epoch) {
    this.partition = partition;
    this.epoch = epoch;
  }

  /**
   * One fetched record and, once its attempt ended, what it produced. Owned by the poll thread;
   * {@link #result} is posted by a lane.
   */
  static final class Slot {
    /** The record as fetched. */
    final ConsumerRecord<byte[], byte[]> record;

    /** Its result; null until done. Written once, by the lane or the watchdog that finished it. */
    volatile ItemResult result;

    /**
     * Whether the record carries the replay header; set when it is decoded, before {@link #result}
     * is written (whose volatile write publishes it).
     */
    boolean replay;

    Slot(ConsumerRecord<byte[], byte[]> record) {
      this.record = record;
    }

    boolean done() {
      return result != null;
    }
  }

  @Override
  public String toString() {
    return partition
        + "#"
        + epoch
        + "(window="
        + window.size()
        + ", waiting="
        + waiting.size()
        + ", delayed="
        + delayed
        + ")";
  }
}
