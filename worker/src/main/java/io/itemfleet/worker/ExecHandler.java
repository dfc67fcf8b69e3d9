package io.itemfleet.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command for the item: {@code ${item}}, {@code ${job}}, {@code ${type}} in its arguments
 * are replaced (else the item ID is appended). Exit 0 succeeds; codes in {@code retryExitCodes}
 * (default 75, EX_TEMPFAIL) and deaths by signal retry; any other code fails for good. Timed out,
 * the process is killed.
 */
final class ExecHandler implements TaskHandler {
  /** The command and its arguments, with placeholders. */
  private final List<String> command;

  /** Exit codes that mean "try again". */
  private final Set<Integer> retryExitCodes;

  ExecHandler(List<String> command, Set<Integer> retryExitCodes) {
    this.command = List.copyOf(command);
    this.retryExitCodes = Set.copyOf(retryExitCodes);
  }

  static ExecHandler from(HandlerConfig c) {
    List<String> cmd = c.list("command").stream().map(String::valueOf).toList();
    if (cmd.isEmpty()) throw new IllegalArgumentException("command: must name a program");
    Set<Integer> retry =
        c.has("retryExitCodes")
            ? Set.copyOf(
                c.list("retryExitCodes").stream().map(o -> ((Number) o).intValue()).toList())
            : Set.of(75);
    return new ExecHandler(cmd, retry);
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    List<String> args = new ArrayList<>();
    boolean placed = false;
    for (String a : command) {
      placed |= a.contains("${item}");
      args.add(
          a.replace("${item}", ctx.item())
              .replace("${job}", ctx.job())
              .replace("${type}", ctx.type()));
    }
    if (!placed) args.add(ctx.item());
    Process p;
    try {
      p = new ProcessBuilder(args).redirectErrorStream(true).start();
    } catch (IOException e) {
      return HandlerResult.failed(
          "exec.start", "cannot run " + args.get(0) + ": " + e.getMessage());
    }
    try {
      byte[] out = p.getInputStream().readNBytes(4096);
      p.waitFor();
      int code = p.exitValue();
      String tail = new String(out, StandardCharsets.UTF_8).strip();
      if (code == 0) return HandlerResult.succeeded();
      String msg = args.get(0) + " exited " + code + (tail.isEmpty() ? "" : ": " + tail);
      return retryExitCodes.contains(code) || code > 128
          ? HandlerResult.retry("exec.exit." + code, msg)
          : HandlerResult.failed("exec.exit." + code, msg);
    } catch (IOException e) {
      return HandlerResult.retry("exec.io", e.toString());
    } catch (InterruptedException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
      throw e;
    }
  }
}
