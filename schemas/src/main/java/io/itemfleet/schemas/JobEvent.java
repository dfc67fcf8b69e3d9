package io.itemfleet.schemas;

/**
 * A message on {@code <prefix>.jobs}: a manifest from a produce run, a completion from the
 * recorder, or a replayed item's resolution from a worker.
 */
public sealed interface JobEvent permits JobManifest, JobCompleted, ItemResolved {
  String job();
}
