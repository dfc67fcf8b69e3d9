package io.itemfleet.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.schemas.Durations;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived child process of a {@code process} handler, speaking newline-delimited JSON (see
 * {@code schemas/json/process-request.schema.json} and {@code process-reply.schema.json}): the
 * worker writes one request line per attempt, the child answers with one reply line per request (in
 * any order, matched by {@code id}), and may send checkpoint lines before it. Its stderr goes to
 * the worker's log with its pid.
 *
 * <p>Threads: attempts (lanes) queue request lines, which one platform thread writes to the child's
 * stdin in order, so that a lane never blocks in a pipe write (a child that stopped reading its
 * stdin blocked one for ever, past its time-out); one platform thread reads replies and completes
 * their futures; one reads stderr; one waits for the child's exit (a process it started may hold
 * its stdout open after it is gone). A child that exits or writes a line that is not a reply is
 * {@linkplain #kill killed}, which also ends a write blocked on a full pipe; every attempt in
 * flight on it then gets a retryable result.
 */
final class ProcessChild {
  private static final Logger log = LoggerFactory.getLogger(ProcessChild.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Longest reply line read from a child's stdout; a child printing more without a newline is
   * killed (its attempts retry) instead of filling the worker's heap.
   */
  static final int MAX_REPLY_CHARS = 16 << 20;

  /** Longest stderr line logged; the rest of a longer one is skipped. */
  static final int MAX_LOG_LINE_CHARS = 8 << 10;

  /** The running process. */
  private final Process process;

  /** Its stdin; written by the writer thread only, one whole line at a time. */
  private final OutputStream stdin;

  /**
   * Request lines for the writer thread, in the order attempts sent them; at most the handler's
   * attempts in flight (its capacity). An empty line tells the writer to stop.
   */
  private final LinkedBlockingQueue<byte[]> toWrite = new LinkedBlockingQueue<>();

  private static final byte[] STOP = new byte[0];

  /** Counted down when the reply reader has read to the end of the child's stdout. */
  private final CountDownLatch repliesRead = new CountDownLatch(1);

  /** Attempts sent and not answered yet, by request id. */
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

  /** Request ids, unique per child. */
  private final AtomicLong ids = new AtomicLong();

  /** Set once the child is being killed: no more requests are sent to it. */
  private final AtomicReference<String> deathCause = new AtomicReference<>();

  /**
   * Requests whose attempt ended without their reply because a checkpoint they sent could not be
   * saved: the child's later lines for them are dropped, not taken for a broken protocol.
   */
  private final Set<Long> abandoned = ConcurrentHashMap.newKeySet();

  /** An attempt in flight: its reply, and where the checkpoints it saves meanwhile go. */
  record Pending(CompletableFuture<JsonNode> reply, Consumer<String> onCheckpoint) {}

  /** The environment variable that asks a child to say when it is ready ({@code startTimeout}). */
  static final String READY_VARIABLE = "FLEET_PROCESS_READY";

  /**
   * Done once the child may take requests: at once without {@code startTimeout}; with it, when the
   * child writes {@code {"ready": true}}. Failed when the child dies first.
   */
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  /** How long the child may take to say it is ready; null when it need not say so. */
  private final Duration startTimeout;

  /** When the child must have said it is ready by (System.nanoTime); with startTimeout only. */
  private final long readyBy;

  /** The child's {@link Leftovers} tag: what it started is found by it once it has exited. */
  private final String tag;

  private ProcessChild(Process process, String tag, Duration startTimeout, long startedNanos) {
    this.process = process;
    this.tag = tag;
    this.stdin = process.getOutputStream();
    this.startTimeout = startTimeout;
    this.readyBy = startTimeout == null ? startedNanos : startedNanos + startTimeout.toNanos();
    if (startTimeout == null) ready.complete(null);
  }

  /**
   * Starts {@code command}; its stdout and stderr are read on their own threads from now on. With a
   * {@code startTimeout}, the child gets {@code FLEET_PROCESS_READY=1} and takes no request until
   * it writes {@code {"ready": true}}; one that has not within the time is killed.
   */
  static ProcessChild start(List<String> command, Map<String, String> env, Duration startTimeout)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command);
    ChildEnvironment.scrub(pb.environment());
    pb.environment().putAll(env);
    if (startTimeout != null) pb.environment().put(READY_VARIABLE, "1");
    String tag = Leftovers.tag(pb.environment());
    long started = System.nanoTime();
    ProcessChild c = new ProcessChild(pb.start(), tag, startTimeout, started);
    // Platform threads: a read from a pipe blocks its carrier, and virtual threads blocked on
    // pipes for a child's whole life could starve the lanes of carriers.
    Thread.ofPlatform().daemon().name("fleet-process-out-" + c.pid()).start(c::readReplies);
    Thread.ofPlatform().daemon().name("fleet-process-err-" + c.pid()).start(c::readStderr);
    Thread.ofPlatform().daemon().name("fleet-process-in-" + c.pid()).start(c::writeRequests);
    Thread.ofPlatform().daemon().name("fleet-process-exit-" + c.pid()).start(c::watchExit);
    return c;
  }

  /**
   * Waits for the child to exit. Its stdout normally ends with it, and the reply reader settles its
   * attempts; but a process it started that still holds the pipe keeps the end from coming (the JDK
   * closes a child's stdout at its exit only when no read is under way), and its attempts waited
   * for their time-outs. A second after the exit, if the reader has not reached the end, the child
   * is killed: its attempts retry.
   */
  private void watchExit() {
    try {
      if (startTimeout != null) {
        try {
          ready.get(startTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          kill(
              "it did not write {\"ready\": true} within its startTimeout of "
                  + Durations.format(startTimeout));
        } catch (ExecutionException e) {
          // it died before it was ready; the reply reader or kill said why
        }
      }
      int code = process.waitFor();
      if (repliesRead.await(1, TimeUnit.SECONDS)) return;
      kill("it exited with code " + code + ", and a process it started still holds its stdout");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // not expected: the thread is the child's own
    }
  }

  /** The writer thread: request lines to stdin until the child dies. */
  private void writeRequests() {
    try {
      for (byte[] line = toWrite.take(); line != STOP; line = toWrite.take()) {
        stdin.write(line);
        stdin.flush();
      }
    } catch (IOException e) {
      kill("its stdin is closed (" + e.getMessage() + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // not expected: the thread is the child's own
    }
  }

  long pid() {
    return process.pid();
  }

  /** True while the child runs and has not been condemned. */
  boolean alive() {
    return deathCause.get() == null && process.isAlive();
  }

  /** True once the child may take requests (it said it is ready, or need not say so). */
  boolean ready() {
    return ready.isDone() && !ready.isCompletedExceptionally();
  }

  /** When the child must have said it is ready by (System.nanoTime). */
  long readyBy() {
    return readyBy;
  }

  /** Why the child was killed, or null while it has not been. */
  String deathCause() {
    return deathCause.get();
  }

  /** Attempts in flight on this child. */
  int inFlight() {
    return pending.size();
  }

  /**
   * Sends one request and returns the future of its reply; {@code onCheckpoint} receives the
   * checkpoints the child saves for it meanwhile. The future fails with {@link ChildGone} when the
   * child dies first, and with {@link CheckpointLost} when a checkpoint it sent cannot be saved.
   * Never blocks: the line is queued for the writer thread.
   */
  CompletableFuture<JsonNode> send(ObjectNode request, Consumer<String> onCheckpoint) {
    long id = ids.incrementAndGet();
    request.put("id", id);
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    pending.put(id, new Pending(reply, onCheckpoint));
    byte[] line;
    try {
      line = (JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      pending.remove(id);
      reply.completeExceptionally(e);
      return reply;
    }
    // Read after the request is in pending, as kill sets it before failing pending: either this
    // sees the death, or kill sees the request.
    String dead = deathCause.get();
    if (dead != null) {
      pending.remove(id);
      reply.completeExceptionally(new ChildGone(dead));
      return reply;
    }
    toWrite.add(line);
    return reply;
  }

  /** Forgets a request whose attempt ended without its reply (timed out). */
  void forget(CompletableFuture<JsonNode> reply) {
    pending.values().removeIf(p -> p.reply() == reply);
  }

  /** Kills the child and fails every attempt in flight on it with {@code cause}. */
  void kill(String cause) {
    kill(cause, false);
  }

  /**
   * Kills the child for one attempt of its own ({@code cause}: that attempt timed out, or answered
   * nonsense), which already left {@link #pending}: the attempts still in flight are not to blame,
   * and their {@link ChildGone} says so, so that they may be sent to a new child.
   */
  void killFor(String cause) {
    kill(cause, true);
  }

  private void kill(String cause, boolean othersInnocent) {
    if (!deathCause.compareAndSet(null, cause)) return;
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly(); // ends a write blocked on a full pipe too
    // A child that exited on its own (a crash, the OOM killer) left what it started to PID 1, no
    // longer its descendants: an ffmpeg it ran would go on beside the item's retry.
    int left = Leftovers.kill(tag, process.pid());
    if (left > 0) log.info("child {} left {} processes behind; killed", pid(), left);
    toWrite.clear();
    toWrite.add(STOP);
    ready.completeExceptionally(new ChildGone(cause));
    for (var e : pending.entrySet()) {
      e.getValue().reply().completeExceptionally(new ChildGone(cause, othersInnocent));
    }
    pending.clear();
  }

  private void readReplies() {
    try (Reader in = new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)) {
      LineReader r = new LineReader(in, MAX_REPLY_CHARS, true);
      for (String line = r.next(); line != null; line = r.next()) {
        if (r.cut()) {
          kill(
              "it wrote a line over "
                  + MAX_REPLY_CHARS
                  + " characters (a reply is one line of JSON): "
                  + abbreviate(line));
          return;
        }
        if (line.isBlank()) continue;
        JsonNode reply;
        try {
          reply = JSON.readTree(line);
        } catch (IOException e) {
          kill("it wrote a line that is not JSON: " + abbreviate(line));
          return;
        }
        JsonNode said = reply.get("ready");
        boolean readyLine = said != null && said.isBoolean() && said.booleanValue();
        if (!ready.isDone()) {
          if (!readyLine || reply.size() != 1) {
            kill(
                "it wrote a line before {\"ready\": true} (its type sets startTimeout, so it must"
                    + " say it is ready first): "
                    + abbreviate(line));
            return;
          }
          ready.complete(null);
          log.info(
              "child {} is ready after {} ms",
              pid(),
              (System.nanoTime() - (readyBy - startTimeout.toNanos())) / 1_000_000);
          continue;
        }
        if (readyLine && reply.size() == 1) continue; // said again: nothing to do
        JsonNode id = reply.get("id");
        boolean whole = id != null && id.isIntegralNumber() && id.canConvertToLong();
        Pending p = whole ? pending.get(id.asLong()) : null;
        boolean checkpoint = !reply.hasNonNull("outcome") && reply.hasNonNull("checkpoint");
        if (p == null && whole && abandoned.contains(id.asLong())) {
          if (!checkpoint) abandoned.remove(id.asLong()); // its last line
          continue;
        }
        if (p == null) {
          kill("it answered no request in flight: " + abbreviate(line));
          return;
        }
        if (checkpoint) {
          save(id.asLong(), p, reply.get("checkpoint").asText());
          continue;
        }
        pending.remove(id.asLong());
        p.reply().complete(reply);
      }
      kill("it exited" + exitCode());
    } catch (IOException e) {
      kill("its stdout failed: " + e.getMessage());
    } catch (RuntimeException e) {
      kill("its replies could not be read: " + e);
    } finally {
      repliesRead.countDown();
    }
  }

  /**
   * Saves a checkpoint the child sent. One that cannot be saved (Redis down, too long, a worker
   * without Redis) fails its own attempt alone, retryably: before, it killed the child and every
   * other attempt on it, again on every retry of that item.
   */
  private void save(long id, Pending p, String checkpoint) {
    try {
      p.onCheckpoint().accept(checkpoint);
    } catch (RuntimeException e) {
      if (pending.remove(id) != null) {
        abandoned.add(id);
        p.reply().completeExceptionally(new CheckpointLost(String.valueOf(e.getMessage())));
      }
    }
  }

  private String exitCode() {
    try {
      return process.waitFor(200, TimeUnit.MILLISECONDS) ? " with code " + process.exitValue() : "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /**
   * Most stderr lines of one child logged per {@link #LOG_WINDOW_SECONDS}; the rest of the window's
   * are counted, and their number logged. A child printing in a tight loop spent the worker's CPU
   * on its log and filled the log for everything else.
   */
  static final int MAX_LOG_LINES_PER_WINDOW = 1_000;

  static final long LOG_WINDOW_SECONDS = 10;

  private void readStderr() {
    long windowStart = System.nanoTime();
    int logged = 0;
    long skipped = 0;
    try (Reader in = new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)) {
      LineReader r = new LineReader(in, MAX_LOG_LINE_CHARS);
      for (String line = r.next(); line != null; line = r.next()) {
        long now = System.nanoTime();
        if (now - windowStart >= LOG_WINDOW_SECONDS * 1_000_000_000L) {
          logSkipped(skipped);
          windowStart = now;
          logged = 0;
          skipped = 0;
        }
        if (logged < MAX_LOG_LINES_PER_WINDOW) {
          log.info("[child {}] {}{}", pid(), line, r.cut() ? "… (line cut)" : "");
          if (++logged == MAX_LOG_LINES_PER_WINDOW) {
            log.warn(
                "[child {}] wrote {} lines to stderr within {} s; the rest of them are counted,"
                    + " not logged",
                pid(),
                MAX_LOG_LINES_PER_WINDOW,
                LOG_WINDOW_SECONDS);
          }
        } else {
          skipped++;
        }
      }
    } catch (IOException ignored) {
      // the child is gone
    }
    logSkipped(skipped);
  }

  private void logSkipped(long skipped) {
    if (skipped > 0) {
      log.warn("[child {}] {} more lines of stderr were not logged", pid(), skipped);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }

  /** The child died (or was killed) before it answered. */
  static final class ChildGone extends RuntimeException {
    /** True when the child was killed for another attempt: this one may go to a new child. */
    final boolean innocent;

    ChildGone(String cause) {
      this(cause, false);
    }

    ChildGone(String cause, boolean innocent) {
      super(cause);
      this.innocent = innocent;
    }
  }

  /** A checkpoint the child sent for the attempt could not be saved; the attempt retries. */
  static final class CheckpointLost extends RuntimeException {
    CheckpointLost(String cause) {
      super(cause);
    }
  }
}
