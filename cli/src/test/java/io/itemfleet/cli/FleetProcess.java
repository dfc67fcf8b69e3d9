package io.itemfleet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code fleet ARGS} in its own JVM on the test class path, output to a log file. */
final class FleetProcess {
  private FleetProcess() {}

  static Process start(Path log, String... args) throws java.io.IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java, "-cp", System.getProperty("java.class.path"), FleetCommand.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
