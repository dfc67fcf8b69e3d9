package io.itemfleet.schemas;

/**
 * A message on {@code <prefix>.jobs}: a manifest from a produce run or a completion from the
 * recorder.
 */
public sealed interface JobEvent permits JobManifest, JobCompleted {
  String job();
}
