package io.itemfleet.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.Durations;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code handler: process} — any language, without a process per item: {@code processes} long-lived
 * children of {@code command}, each taking up to {@code inflight} attempts at once over
 * newline-delimited JSON on stdin/stdout ({@link ProcessChild}). A child that exits or writes
 * garbage is killed, and the attempts in flight on it retry ({@code process.died}); a child whose
 * attempt times out is killed too (it may be stuck). Dead children are started again on demand,
 * with a backoff per slot (100 ms doubling to 10 s, reset by an answer); an attempt that finds no
 * child to take it waits for the next start (within its time-out) instead of spending a retry.
 */
public final class ProcessHandler implements TaskHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProcessHandler.class);

  /** Longest wait before a slot's child is started again. */
  private static final long MAX_BACKOFF_MS = 10_000;

  /** The command, as in fleet.yaml. */
  private final List<String> command;

  /** The task type, for the children's environment and the log. */
  private final String type;

  /** Attempts one child takes at once. */
  private final int inflight;

  /** The children, one per slot; null until first needed. Guarded by this. */
  private final ProcessChild[] children;

  /** When each slot may start a child again (System.nanoTime). Guarded by this. */
  private final long[] notBefore;

  /** Each slot's current backoff, ms. Guarded by this. */
  private final long[] backoff;

  /** Set by close: attempts waiting for a child give up. Guarded by this. */
  private boolean closed;

  /** Attempts in flight over all children, at most processes × inflight. */
  private final Semaphore capacity;

  /**
   * How long a child may take to say it is ready ({@code startTimeout}); null when children take
   * requests as soon as they start, as before the setting existed.
   */
  private final Duration startTimeout;

  /** Longest {@code startTimeout}. */
  static final Duration MAX_START_TIMEOUT = Duration.ofHours(1);

  public ProcessHandler(String type, List<String> command, int processes, int inflight) {
    this(type, command, processes, inflight, null);
  }

  /**
   * With a {@code startTimeout}, each child is started with {@code FLEET_PROCESS_READY=1} and gets
   * requests only once it writes {@code {"ready": true}}; attempts waiting for it meanwhile have
   * their time-out start when their request is sent (holding it for at most {@code startTimeout}).
   */
  public ProcessHandler(
      String type, List<String> command, int processes, int inflight, Duration startTimeout) {
    this.startTimeout = startTimeout;
    this.type = type;
    this.command = List.copyOf(command);
    this.inflight = inflight;
    this.children = new ProcessChild[processes];
    this.notBefore = new long[processes];
    this.backoff = new long[processes];
    java.util.Arrays.fill(backoff, 100);
    this.capacity = new Semaphore(processes * inflight);
  }

  static ProcessHandler from(String type, HandlerConfig c) {
    List<String> cmd = c.list("command").stream().map(String::valueOf).toList();
    if (cmd.isEmpty()) throw new IllegalArgumentException("command: must name a program");
    int processes = whole(c, "processes", 1, 64);
    int inflight = whole(c, "inflight", 16, 10_000);
    Duration startTimeout = c.duration("startTimeout", null);
    if (startTimeout != null
        && (startTimeout.isZero() || startTimeout.compareTo(MAX_START_TIMEOUT) > 0)) {
      throw c.error(
          "startTimeout",
          "must be more than 0 and at most 1h, was '" + c.raw("startTimeout") + "'");
    }
    return new ProcessHandler(type, cmd, processes, inflight, startTimeout);
  }

  private static int whole(HandlerConfig c, String key, int dflt, int max) {
    if (!c.has(key)) return dflt;
    if (!(c.raw(key) instanceof Number n)
        || n.doubleValue() != n.intValue()
        || n.intValue() < 1
        || n.intValue() > max) {
      throw new IllegalArgumentException(
          key + ": must be a whole number in [1, " + max + "], was '" + c.raw(key) + "'");
    }
    return n.intValue();
  }

  @Override
  public HandlerResult handle(TaskContext ctx) throws InterruptedException {
    StartHold hold = new StartHold(ctx instanceof TaskView v ? v : null);
    while (!capacity.tryAcquire(100, TimeUnit.MILLISECONDS)) {
      hold.whileStarting(); // the attempts taking every place wait for a start too
    }
    try {
      HandlerResult r = attempt(ctx, hold, true);
      return r != null ? r : attempt(ctx, hold, false);
    } finally {
      capacity.release();
    }
  }

  /**
   * One attempt's hold of its time-out while a child it waits for is starting ({@code
   * startTimeout}): only while one is, and at most until {@code startTimeout} after the attempt
   * began; the time-out then starts at the latest then.
   */
  private final class StartHold {
    private final TaskView clock;
    private final long began = System.nanoTime();
    private final long atMost;
    private boolean held;

    StartHold(TaskView clock) {
      this.clock = startTimeout == null ? null : clock;
      this.atMost = startTimeout == null ? 0 : began + startTimeout.toNanos();
    }

    /**
     * While a child is starting, the attempt's time-out starts no earlier than when that child must
     * be ready by (or the hold's end). A hold stays while a child it waited for is ready (the
     * attempt may still wait for room on it), and ends once no child is starting or ready (it died,
     * or was killed for not being ready): the time-out is the attempt's own again, from when it
     * began. Before, a child alive for a moment (crashing on import) held the attempt until the
     * child's startTimeout.
     */
    void whileStarting() {
      if (clock == null) return;
      long starting = earliestReadyBy();
      long from = starting == Long.MAX_VALUE ? 0 : Math.min(starting, atMost);
      if (from > System.nanoTime()) {
        clock.timeoutStartsAt(from);
        held = true;
      } else if (held && starting == Long.MAX_VALUE && !anyReady()) {
        clock.timeoutStartsAt(began);
        held = false;
      }
    }

    /**
     * The attempt's request goes out now: its time-out starts now if it was held, never later than
     * the hold's end, and only once (a resend to a new child does not start it again).
     */
    void sent() {
      if (!held) return;
      clock.timeoutStartsAt(Math.min(System.nanoTime(), atMost));
      held = false;
    }
  }

  /** True when some child is alive and ready. */
  private synchronized boolean anyReady() {
    for (ProcessChild k : children) {
      if (k != null && k.ready() && k.alive()) return true;
    }
    return false;
  }

  /** When the first child still starting must be ready by; MAX_VALUE when none is starting. */
  private synchronized long earliestReadyBy() {
    long starting = Long.MAX_VALUE;
    for (ProcessChild k : children) {
      if (k != null && !k.ready() && k.alive()) starting = Math.min(starting, k.readyBy());
    }
    return starting;
  }

  /**
   * Sends the attempt to a child and returns its result; null, with {@code mayResend}, when the
   * child was killed for another attempt of its own (a time-out, a bad reply) before it answered
   * this one. That attempt is sent to a new child once, within its time-out: before, every attempt
   * in flight on the child spent a retry for the one that was to blame.
   */
  private HandlerResult attempt(TaskContext ctx, StartHold hold, boolean mayResend)
      throws InterruptedException {
    ProcessChild child;
    try {
      child = awaitChild(hold);
    } catch (IOException e) {
      return HandlerResult.retry(
          "process.start", "cannot start " + command.get(0) + ": " + e.getMessage());
    }
    if (child == null) {
      return HandlerResult.retry(
          "process.unavailable", "the process handler of type " + type + " is closed");
    }
    // Timed out while it waited for a child: not sent, so no child is killed for it.
    if (Thread.interrupted()) throw new InterruptedException();
    CompletableFuture<JsonNode> reply = child.send(request(ctx), ctx::saveCheckpoint);
    JsonNode r;
    try {
      r = reply.get();
    } catch (InterruptedException e) {
      // Timed out: the child may be stuck on it; start afresh (its other attempts go to a new
      // child).
      child.forget(reply);
      child.killFor("an attempt of item " + ctx.item() + " timed out");
      throw e;
    } catch (ExecutionException e) {
      if (mayResend && e.getCause() instanceof ProcessChild.ChildGone gone && gone.innocent) {
        log.info(
            "child {} of type {} was killed for another attempt ({}); item {} goes to a new"
                + " child",
            child.pid(),
            type,
            gone.getMessage(),
            ctx.item());
        return null;
      }
      if (e.getCause() instanceof ProcessChild.CheckpointLost lost) {
        return HandlerResult.retry(
            "process.checkpoint",
            "a checkpoint of this attempt could not be saved: " + lost.getMessage());
      }
      return HandlerResult.retry(
          "process.died",
          "child "
              + child.pid()
              + " of "
              + command.get(0)
              + " ended: "
              + e.getCause().getMessage());
    }
    answered(child);
    return result(r, child);
  }

  /**
   * A live, ready child with room, waiting for a slot's backoff to end when there is none (the
   * attempt's time-out interrupts the wait). Before, such an attempt returned a retry at once:
   * after one crash every waiting lane spent an attempt within the 100 ms backoff, and a child
   * failing at start-up for a minute used up the retries of a whole job. Null once the handler is
   * closed.
   *
   * <p>With {@code startTimeout}, a child still starting holds the attempt's time-out (up to {@code
   * startTimeout} in all), and the time-out starts when the request is sent: before, a start-up
   * longer than the time-out (a large model loading) timed out the attempts sent to it, and each
   * time-out killed the child, which then started again from the beginning, for ever.
   */
  private ProcessChild awaitChild(StartHold hold) throws IOException, InterruptedException {
    while (true) {
      long waitNanos;
      synchronized (this) {
        if (closed) return null;
        ProcessChild c = pick();
        if (c != null) {
          hold.sent();
          return c;
        }
        // Until the earliest restart of an empty slot (a live child's slot has no restart to wait
        // for), at most 100 ms: a child with room may free up meanwhile.
        long now = System.nanoTime();
        long next = now + 100_000_000L;
        for (int i = 0; i < children.length; i++) {
          if (children[i] == null) next = Math.min(next, notBefore[i]);
        }
        hold.whileStarting();
        waitNanos = Math.clamp(next - now, 1_000_000L, 100_000_000L);
      }
      TimeUnit.NANOSECONDS.sleep(waitNanos); // a child with room may also free up meanwhile
    }
  }

  /** A live child with room, starting one in an empty slot if its backoff allows; else null. */
  private synchronized ProcessChild pick() throws IOException {
    ProcessChild best = null;
    for (int i = 0; i < children.length; i++) {
      ProcessChild c = children[i];
      if (c != null && !c.alive()) {
        String cause = c.deathCause();
        log.warn(
            "child {} of type {} is gone ({}); it is started again in {} ms",
            c.pid(),
            type,
            cause != null ? cause : "it exited",
            backoff[i]);
        c.kill("it is gone");
        children[i] = null;
        notBefore[i] = System.nanoTime() + backoff[i] * 1_000_000;
        backoff[i] = Math.min(MAX_BACKOFF_MS, backoff[i] * 2);
        c = null;
      }
      if (c == null && System.nanoTime() >= notBefore[i]) {
        try {
          c =
              ProcessChild.start(
                  command,
                  Map.of("FLEET_TYPE", type, "FLEET_PROCESS_INFLIGHT", Integer.toString(inflight)),
                  startTimeout);
        } catch (IOException e) {
          // Not again at once for the next attempt: the slot backs off as after a crash.
          notBefore[i] = System.nanoTime() + backoff[i] * 1_000_000;
          backoff[i] = Math.min(MAX_BACKOFF_MS, backoff[i] * 2);
          throw e;
        }
        children[i] = c;
        log.info("started child {} of type {}: {}", c.pid(), type, command);
      }
      if (c != null
          && c.ready()
          && c.inFlight() < inflight
          && (best == null || c.inFlight() < best.inFlight())) {
        best = c;
      }
    }
    return best;
  }

  /** Kills every child (they would also exit on their own once the worker's JVM ends). */
  @Override
  public synchronized void close() {
    closed = true;
    for (int i = 0; i < children.length; i++) {
      if (children[i] != null) children[i].kill("the handler is closed");
      children[i] = null;
    }
  }

  /** A child answered: its slot's backoff starts over. */
  private synchronized void answered(ProcessChild child) {
    for (int i = 0; i < children.length; i++) {
      if (children[i] == child) backoff[i] = 100;
    }
  }

  private static ObjectNode request(TaskContext ctx) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("job", ctx.job());
    o.put("type", ctx.type());
    o.put("item", ctx.item());
    o.put("attempt", ctx.attempt());
    o.putRawValue("payload", new com.fasterxml.jackson.databind.util.RawValue(ctx.payloadJson()));
    // Only a retry can have one (an earlier attempt saved it): no Redis read per first attempt.
    Optional<String> cp = ctx.attempt() > 1 ? ctx.checkpoint() : Optional.empty();
    if (cp.isPresent()) o.put("checkpoint", cp.get());
    else o.putNull("checkpoint");
    return o;
  }

  /** A reply line as a result; one that says nothing sensible condemns its child. */
  private HandlerResult result(JsonNode r, ProcessChild child) {
    String outcome = r.path("outcome").asText("");
    String errorClass = r.path("error").path("class").asText("");
    String message = r.path("error").path("message").asText("");
    switch (outcome) {
      case "succeeded" -> {
        JsonNode v = r.get("result");
        return new HandlerResult.Succeeded(
            v == null || v.isNull()
                ? Optional.empty()
                : Optional.of(v.isTextual() ? v.asText() : v.toString()));
      }
      case "retry" -> {
        return new HandlerResult.Retry(
            errorClass.isEmpty() ? "process.retry" : errorClass,
            message,
            retryAfter(r.get("retryAfter")));
      }
      case "failed" -> {
        return HandlerResult.failed(errorClass.isEmpty() ? "process.failed" : errorClass, message);
      }
      default -> {
        child.killFor(
            "it answered with outcome '" + outcome + "' (succeeded, retry or failed expected)");
        return HandlerResult.retry(
            "process.bad_reply", "child " + child.pid() + " answered outcome '" + outcome + "'");
      }
    }
  }

  /** {@code retryAfter}: seconds as a number, or a duration such as {@code "30s"}. */
  private static Optional<Duration> retryAfter(JsonNode v) {
    if (v == null || v.isNull()) return Optional.empty();
    if (v.isNumber()) return Optional.of(Duration.ofMillis((long) (v.asDouble() * 1000)));
    try {
      return Optional.of(Durations.parse(v.asText()));
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // the configured delay applies
    }
  }
}
