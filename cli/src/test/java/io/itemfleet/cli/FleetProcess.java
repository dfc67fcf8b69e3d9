package io.itemfleet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code fleet ARGS} in its own JVM on the test class path, output to a log file. */
final class FleetProcess {
  private FleetProcess() {}

  static Process start(Path log, String... args) throws java.io.IOException {
    return start(List.of(), log, args);
  }

  /** With JVM options, e.g. {@code -Xmx64m}. */
  static Process start(List<String> jvm, Path log, String... args) throws java.io.IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetCommand.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
