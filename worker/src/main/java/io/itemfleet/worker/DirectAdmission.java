package io.itemfleet.worker;

/**
 * Admission without Redis: every attempt runs at once, in partition order, and its result goes
 * straight into its slot. What guards against running an item twice is then Kafka alone (the
 * transaction that commits an offset with its outputs); see docs/ARCHITECTURE.md.
 */
final class DirectAdmission implements Admission {
  private Lanes lanes;

  @Override
  public void start(Lanes lanes, FatalSignal fatal) {
    this.lanes = lanes;
  }

  @Override
  public void submit(Attempt a) {
    lanes.offer(a);
  }

  @Override
  public int undecided() {
    return 0;
  }

  @Override
  public void takeVerdicts(Lanes lanes, Waits waits) {
    // every attempt was cleared when it was submitted
  }

  @Override
  public void post(Attempt a, ItemResult result) {
    lanes.complete(a, result);
  }

  @Override
  public void release(Attempt a) {
    // nothing was taken for it
  }

  @Override
  public int finishing() {
    return 0;
  }

  @Override
  public boolean healthy() {
    return true;
  }

  @Override
  public void close() {}
}
