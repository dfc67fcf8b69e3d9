package io.itemfleet.worker;

import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.TaskSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Retry attempts held in memory until they are due, earliest first: records of the retry topics
 * whose notBefore is still ahead, and attempts the Redis gate told to wait. One due past {@link
 * #MEMORY_HORIZON} pauses its partition's fetching (see {@link PartitionState#farDelayed}). A retry
 * record is released at its notBefore or when its tier's delay has passed since it was written,
 * whichever is sooner, so every record of a tier partition is released in the order written and one
 * due much later never holds back those behind it; it is then sent on to the tier that fits what is
 * left ({@link #hop}). Poll thread only.
 */
final class DelayedRetries implements Admission.Waits {
  /** Retry records due later than this are held with their partition paused. */
  static final Duration MEMORY_HORIZON = Duration.ofSeconds(60);

  /**
   * An attempt held until {@code dueMillis}; with {@code hop} it is sent on to a later tier then
   * instead of running.
   */
  private record Held(long dueMillis, Attempt attempt, boolean far, boolean hop) {}

  private final PriorityQueue<Held> delayed =
      new PriorityQueue<>((a, b) -> Long.compare(a.dueMillis, b.dueMillis));

  /** Each retry topic's tier delay. */
  private final Map<String, Long> tierMillis = new HashMap<>();

  private final Lanes lanes;
  private final Clock clock;

  DelayedRetries(FleetTopics topics, Lanes lanes, Clock clock) {
    this.lanes = lanes;
    this.clock = clock;
    for (Duration tier : FleetTopics.RETRY_TIERS) {
      tierMillis.put(topics.retry(tier), tier.toMillis());
    }
  }

  /**
   * A fetched record of a retry topic, due at {@code dueMillis}: held when that is ahead, else (or
   * when it is too large to pass on) queued to run in its partition.
   */
  void intake(Attempt a, ConsumerRecord<byte[], byte[]> r, long dueMillis, long now) {
    // Passed on re-encoded, so measured so; one that did not decode is settled now (POISON).
    boolean fits = a.decoded == null || ItemExecutor.retryFits(r.value(), a.decoded);
    if (dueMillis <= now || !fits) {
      a.state.waiting.add(a); // a foreign record too large to pass on runs now; it is not held
      return;
    }
    long written = r.timestamp() < 0 ? now : Math.min(r.timestamp(), now);
    long release = Math.min(dueMillis, written + tierMillis.getOrDefault(r.topic(), 0L));
    add(new Held(Math.max(release, now), a, false, release < dueMillis), now);
  }

  /** An attempt told to wait {@code millis} (by the Redis gate) before it is asked for again. */
  @Override
  public void hold(Attempt a, long millis) {
    if (a.state.revoked) return;
    long now = clock.millis();
    add(new Held(now + millis, a, false, false), now);
  }

  private void add(Held h, long now) {
    boolean far = h.dueMillis - now > MEMORY_HORIZON.toMillis();
    Held held = far == h.far ? h : new Held(h.dueMillis, h.attempt, far, h.hop);
    delayed.add(held);
    held.attempt.state.delayed++;
    if (far) held.attempt.state.farDelayed++;
  }

  /** Queues every attempt now due at the head of its partition (or hops it on to a later tier). */
  void releaseDue() {
    long now = clock.millis();
    while (!delayed.isEmpty() && delayed.peek().dueMillis <= now) {
      Held h = delayed.poll();
      PartitionState s = h.attempt.state;
      if (s.revoked) continue;
      s.delayed--;
      if (h.far) s.farDelayed--;
      if (h.hop) {
        hop(h.attempt, now);
      } else {
        s.waiting.addFirst(h.attempt);
      }
    }
  }

  /**
   * A retry record whose tier delay has passed but which is not due yet: within the horizon it is
   * held on in memory; further out it is sent on to the tier for what is left (its notBefore capped
   * at {@link TaskSettings#MAX_DELAY} from now), committed with its offset like any output.
   */
  private void hop(Attempt a, long now) {
    TaskMessage t = a.decoded;
    long due = millis(t.notBefore().orElseThrow());
    if (due - now <= MEMORY_HORIZON.toMillis()) {
      add(new Held(due, a, false, false), now);
      return;
    }
    long capped = Math.min(due, now + TaskSettings.MAX_DELAY.toMillis());
    TaskMessage same = capped == due ? t : t.withNotBefore(Instant.ofEpochMilli(capped));
    long unknownSince = ItemExecutor.unknownSince(a.slot.record).orElse(0L); // carried along
    lanes.complete(a, ItemResult.deferred(same, Instant.ofEpochMilli(now), unknownSince));
  }

  /** The retry topic tier for a delay: the largest tier not above it, or the smallest. */
  static Duration tierFor(long delayMillis) {
    Duration tier = FleetTopics.RETRY_TIERS.get(0);
    for (Duration t : FleetTopics.RETRY_TIERS) {
      if (t.toMillis() <= delayMillis) tier = t;
    }
    return tier;
  }

  /**
   * Epoch milliseconds of {@code t}, saturated: a notBefore in the year 300,000,000 is no crash.
   */
  static long millis(Instant t) {
    try {
      return t.toEpochMilli();
    } catch (ArithmeticException e) {
      return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
