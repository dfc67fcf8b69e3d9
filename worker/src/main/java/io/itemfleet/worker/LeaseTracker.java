package io.itemfleet.worker;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts holding a lease in Redis on behalf of this worker: renewed every third of the lease
 * by the gate thread until their done marker replaces the lease or the lease is released. A lease
 * found gone at renewal (it expired, or another worker took the item over) is counted once as lost
 * and not renewed again. Gate thread only (a lane's release reaches it through the gate's queue):
 * the attempts are linked through their own fields, so taking and ending a lease costs two pointer
 * writes — a concurrent set's add and remove per item were among the gate thread's largest costs.
 */
final class LeaseTracker {
  private static final Logger log = LoggerFactory.getLogger(LeaseTracker.class);

  private Attempt head;
  private Attempt tail;
  private int size;

  /** Leases found lost at renewal. */
  private final AtomicLong lost = new AtomicLong();

  /** The attempt took its lease. */
  void held(Attempt a) {
    if (a.leaseHeld) return;
    a.leaseHeld = true;
    a.leasePrev = tail;
    a.leaseNext = null;
    if (tail == null) head = a;
    else tail.leaseNext = a;
    tail = a;
    size++;
  }

  /** The attempt's lease ends (marker written, released) or is no longer ours to renew. */
  void ended(Attempt a) {
    remove(a);
  }

  /** Unlinks the attempt; false when it held no lease here. */
  private boolean remove(Attempt a) {
    if (!a.leaseHeld) return false;
    if (a.leasePrev == null) head = a.leaseNext;
    else a.leasePrev.leaseNext = a.leaseNext;
    if (a.leaseNext == null) tail = a.leasePrev;
    else a.leaseNext.leasePrev = a.leasePrev;
    a.leasePrev = null;
    a.leaseNext = null;
    a.leaseHeld = false;
    size--;
    return true;
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  /** Every attempt holding a lease now (not to be changed while iterated). */
  Iterable<Attempt> all() {
    return () ->
        new Iterator<>() {
          private Attempt next = head;

          @Override
          public boolean hasNext() {
            return next != null;
          }

          @Override
          public Attempt next() {
            if (next == null) throw new NoSuchElementException();
            Attempt a = next;
            next = a.leaseNext;
            return a;
          }
        };
  }

  /** The leases to renew in a pass, leaving out those ending in the same pass. */
  List<Attempt> toRenew(Set<Attempt> ending) {
    List<Attempt> out = new ArrayList<>(size);
    for (Attempt a = head; a != null; a = a.leaseNext) {
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
    for (Attempt a = head; a != null; ) {
      Attempt next = a.leaseNext; // read before a is unlinked
      if (a.overdue && nowNanos - a.deadlineNanos > graceNanos) {
        remove(a);
        out.add(a);
      }
      a = next;
    }
    return out;
  }

  /** A renewal found the lease gone while the attempt still ran here. */
  void lostAtRenewal(Attempt a) {
    if (remove(a)) {
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
