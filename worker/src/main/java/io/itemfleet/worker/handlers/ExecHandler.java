package io.itemfleet.worker.handlers;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.MessageCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a command for the item. {@code ${item}}, {@code ${job}}, {@code ${type}} and {@code
 * ${attempt}} in its arguments are replaced in one pass (a value that itself contains {@code ${…}}
 * is never expanded again); without {@code ${item}} the item ID is appended as the last argument.
 * The command also gets the task message as JSON on stdin and {@code FLEET_JOB}, {@code
 * FLEET_TYPE}, {@code FLEET_ITEM}, {@code FLEET_ATTEMPT} (1 for the first attempt) in its
 * environment.
 *
 * <p>Exit 0 succeeds; codes in {@code retryExitCodes} (default 75, EX_TEMPFAIL) and deaths by
 * signal retry; any other code fails for good, with the last {@value #TAIL_BYTES} bytes of output
 * (stdout and stderr together) in the error. Output is read while the command runs, so a command
 * that prints more than a pipe holds never blocks. Timed out, the process and its descendants are
 * killed; what it leaves running when it exits is killed then (found by {@link Leftovers}' tag).
 */
final class ExecHandler implements TaskHandler {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ExecHandler.class);

  private static final MessageCodec CODEC = new MessageCodec();

  /** Output kept for the error message: the end, where a traceback is. */
  static final int TAIL_BYTES = 4096;

  /** The placeholders, matched in one pass. */
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(item|job|type|attempt)}");

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

  /** The command line for one attempt. */
  List<String> arguments(TaskContext ctx) {
    Map<String, String> values =
        Map.of(
            "item", ctx.item(),
            "job", ctx.job(),
            "type", ctx.type(),
            "attempt", Integer.toString(ctx.attempt()));
    List<String> args = new ArrayList<>(command.size() + 1);
    boolean placed = false;
    for (String a : command) {
      placed |= a.contains("${item}");
      Matcher m = PLACEHOLDER.matcher(a);
      args.add(m.replaceAll(r -> Matcher.quoteReplacement(values.get(r.group(1)))));
    }
    if (!placed) args.add(ctx.item());
    return args;
  }

  /**
   * Why an item's ID must not be appended to the command, or null: an ID starting with '-' would
   * reach the program as an option (an ID such as {@code --output=/etc/x} comes from whoever
   * produces to the topic), unless the command has a {@code --} argument before it.
   */
  String optionLikeItem(TaskContext ctx) {
    boolean placed = command.stream().anyMatch(a -> a.contains("${item}"));
    if (placed || !ctx.item().startsWith("-") || command.contains("--")) return null;
    return "the item ID starts with '-', and appended to the command it would be read as an option;"
        + " put \"--\" and \"${item}\" in the command (command: [prog, --, \"${item}\"]), then"
        + " replay the job";
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    String optionLike = optionLikeItem(ctx);
    if (optionLike != null) return HandlerResult.failed("exec.option_like_item", optionLike);
    List<String> args = arguments(ctx);
    ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    ChildEnvironment.scrub(env);
    String tag = Leftovers.tag(env);
    env.put("FLEET_JOB", ctx.job());
    env.put("FLEET_TYPE", ctx.type());
    env.put("FLEET_ITEM", ctx.item());
    env.put("FLEET_ATTEMPT", Integer.toString(ctx.attempt()));
    byte[] input = CODEC.encodeTask(TaskView.taskOf(ctx));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      String why = "cannot run " + args.get(0) + ": " + e.getMessage();
      // A start refused for the moment (EAGAIN at a process limit, EMFILE, ENOMEM, ETXTBSY while
      // the program is being written) passes: retried, where before every item that came then was
      // FAILED for good. Anything else (a missing or unrunnable program) stays so: FAILED.
      return lastingStartError(e)
          ? HandlerResult.failed("exec.start", why)
          : HandlerResult.retry("exec.start", why);
    }
    Thread writer = null;
    Thread reader = null;
    try {
      // Platform threads: blocking pipe I/O would hold a virtual thread's carrier.
      writer = Thread.ofPlatform().daemon().name("fleet-exec-in").start(() -> feed(p, input));
      Tail tail = new Tail();
      reader = Thread.ofPlatform().daemon().name("fleet-exec-out").start(() -> tail.drain(p));
      int code = p.waitFor();
      // What the command left running ends with it (else a process holding its output kept the
      // reading thread for ever, and one that did not lived on beside the item's retry). The
      // command has exited, so its children are no longer its descendants: found by their tag.
      int left = Leftovers.kill(tag, p.pid());
      if (left > 0) log.info("{} exited leaving {} processes behind; killed", args.get(0), left);
      reader.join(1_000);
      String out = tail.text();
      if (code == 0) return HandlerResult.succeeded();
      String msg = args.get(0) + " exited " + code + (out.isEmpty() ? "" : ": " + out);
      return retryExitCodes.contains(code) || code > 128
          ? HandlerResult.retry("exec.exit." + code, msg)
          : HandlerResult.failed("exec.exit." + code, msg);
    } catch (InterruptedException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
      Leftovers.kill(tag, p.pid()); // any a child of it started, left to PID 1 by now
      throw e;
    } finally {
      if (p.isAlive()) { // an error before the wait: never leave the child behind
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      closeQuietly(p.getInputStream());
      if (writer != null) writer.interrupt();
      if (reader != null) reader.interrupt();
    }
  }

  /** Writes the task to the command's stdin; a command that does not read it is no error. */
  private static void feed(Process p, byte[] input) {
    try (OutputStream in = p.getOutputStream()) {
      in.write(input);
    } catch (IOException ignored) {
      // broken pipe: the command exited or closed stdin without reading it all
    }
  }

  private static void closeQuietly(InputStream s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing left to read
    }
  }

  /** The last {@link #TAIL_BYTES} bytes of a process's output, read until it ends. */
  static final class Tail {
    private final byte[] ring = new byte[TAIL_BYTES];
    private long total;

    void drain(Process p) {
      byte[] buf = new byte[8192];
      try (InputStream out = p.getInputStream()) {
        for (int n = out.read(buf); n >= 0; n = out.read(buf)) add(buf, n);
      } catch (IOException ignored) {
        // closed after the process ended: what was read is kept
      }
    }

    synchronized void add(byte[] buf, int n) {
      for (int i = 0; i < n; i++) ring[(int) ((total + i) % TAIL_BYTES)] = buf[i];
      total += n;
    }

    synchronized String text() {
      int kept = (int) Math.min(total, TAIL_BYTES);
      byte[] out = new byte[kept];
      long start = total - kept;
      for (int i = 0; i < kept; i++) out[i] = ring[(int) ((start + i) % TAIL_BYTES)];
      String s = new String(out, StandardCharsets.UTF_8).strip();
      return total > TAIL_BYTES ? "…" + s : s;
    }
  }

  /**
   * errno of a failed start, as the JDK words it: "error=2, No such file or directory", or, when
   * its spawn helper is what failed to run the program, "Exec failed, error: 26 (Text file busy)".
   */
  private static final Pattern ERRNO = Pattern.compile("error(?:=|: )(\\d{1,4})");

  /**
   * True when a start failed for a lasting reason: anything but the errnos that pass (EAGAIN at a
   * process limit, ENOMEM, ENFILE, EMFILE, ETXTBSY while the program is being written), or no errno
   * said. The last errno of the message is read: its start quotes the program, whose name may hold
   * anything (an item ID through ${item}).
   */
  static boolean lastingStartError(IOException e) {
    java.util.regex.Matcher m = ERRNO.matcher(String.valueOf(e.getMessage()));
    String errno = null;
    while (m.find()) errno = m.group(1);
    if (errno == null) return true;
    return switch (Integer.parseInt(errno)) {
      case 11, 12, 23, 24, 26 -> false;
      default -> true;
    };
  }
}
