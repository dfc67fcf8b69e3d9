package io.itemfleet.worker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts holding a lease in Redis on behalf of this worker: renewed every third of the lease
 * by the gate thread until their done marker replaces the lease or the lease is released. A lease
 * found gone at renewal (it expired, or another worker took the item over) is counted once as lost
 * and not renewed again. Gate thread only (a lane's release reaches it through the gate's queue),
 * so a plain set: its adds and removes were a concurrent map's, twice per item.
 */
final class LeaseTracker {
  private static final Logger log = LoggerFactory.getLogger(LeaseTracker.class);

  private final Set<Attempt> leased = new HashSet<>();

  /** Leases found lost at renewal. */
  private final AtomicLong lost = new AtomicLong();

  /** The attempt took its lease. */
  void held(Attempt a) {
    leased.add(a);
  }

  /** The attempt's lease ends (marker written, released) or is no longer ours to renew. */
  void ended(Attempt a) {
    leased.remove(a);
  }

  boolean isEmpty() {
    return leased.isEmpty();
  }

  int size() {
    return leased.size();
  }

  /** Every attempt holding a lease now. */
  Iterable<Attempt> all() {
    return leased;
  }

  /** The leases to renew in a pass, leaving out those ending in the same pass. */
  List<Attempt> toRenew(Set<Attempt> ending) {
    List<Attempt> out = new ArrayList<>(leased.size());
    for (Attempt a : leased) {
      if (!ending.contains(a)) out.add(a);
    }
    return out;
  }

  /**
   * Timed-out attempts whose handler has ignored its interruption for longer than {@code
   * graceNanos} past its deadline: they are no longer renewed (removed here) and returned, so that
   * their leases can be given up. Kept forever, such a lease made the item's retry wait forever and
   * held back its partition's commits.
   */
  List<Attempt> runaways(long nowNanos, long graceNanos) {
    List<Attempt> out = new ArrayList<>();
    for (java.util.Iterator<Attempt> it = leased.iterator(); it.hasNext(); ) {
      Attempt a = it.next();
      if (a.overdue && nowNanos - a.deadlineNanos > graceNanos) {
        it.remove();
        out.add(a);
      }
    }
    return out;
  }

  /** A renewal found the lease gone while the attempt still ran here. */
  void lostAtRenewal(Attempt a) {
    if (leased.remove(a)) {
      lost.incrementAndGet(); // once per attempt: a lost lease is not renewed again
      log.warn(
          "lease of item at {} was lost while it ran (expired, or taken over); another worker"
              + " may run it too",
          ItemExecutor.source(a.slot.record));
    }
  }

  /** Leases found lost so far. */
  long lost() {
    return lost.get();
  }
}
