package io.itemfleet.worker.handlers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * Finds the processes a command left behind once it has exited. A command's children are its
 * descendants only while it lives: after it exits they belong to PID 1, and {@code
 * ProcessHandle.descendants()} no longer names them. So every command and child is started with a
 * tag of its own in its environment ({@value #VARIABLE}), which what it starts inherits; a process
 * whose environment holds the tag is the command's, wherever it now hangs. Linux only ({@code
 * /proc/PID/environ}); elsewhere nothing is found.
 */
final class Leftovers {
  private Leftovers() {}

  /** The variable carrying the tag. */
  static final String VARIABLE = "FLEET_EXEC_TAG";

  /** Puts a new tag into {@code env} (a ProcessBuilder's environment) and returns it. */
  static String tag(Map<String, String> env) {
    String tag = UUID.randomUUID().toString();
    env.put(VARIABLE, tag);
    return tag;
  }

  /**
   * Kills (SIGKILL) every process started after {@code started} (its PID is higher: Linux hands
   * PIDs out in increasing order until they wrap) whose environment holds {@code tag}; returns how
   * many. Only those processes' environments are read, so this is cheap enough after every command.
   */
  static int kill(String tag, long started) {
    byte[] want = (VARIABLE + "=" + tag).getBytes(StandardCharsets.UTF_8);
    long self = ProcessHandle.current().pid();
    int killed = 0;
    for (ProcessHandle h : ProcessHandle.allProcesses().toList()) {
      if (h.pid() <= started || h.pid() == self) continue;
      byte[] env;
      try {
        env = Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "environ"));
      } catch (IOException | SecurityException e) {
        continue; // gone, or not ours to read
      }
      if (holds(env, want) && h.destroyForcibly()) killed++;
    }
    return killed;
  }

  /** True when {@code env} (NUL-separated entries) has the entry {@code want}. */
  static boolean holds(byte[] env, byte[] want) {
    int start = 0;
    for (int i = 0; i <= env.length; i++) {
      if (i == env.length || env[i] == 0) {
        if (i - start == want.length
            && java.util.Arrays.equals(env, start, i, want, 0, want.length)) {
          return true;
        }
        start = i + 1;
      }
    }
    return false;
  }
}
