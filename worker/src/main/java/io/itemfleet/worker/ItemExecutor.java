package io.itemfleet.worker;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.DecodeError;
import io.itemfleet.schemas.Decoded;
import io.itemfleet.schemas.FailureEvent;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Names;
import io.itemfleet.schemas.Outcome;
import io.itemfleet.schemas.SourceRecord;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.RetryPolicy;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.TaskType;
import io.itemfleet.worker.config.WorkerSettings;
import io.itemfleet.worker.handlers.TaskView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one record into an {@link ItemResult}: decode (POISON when it cannot be), find the handler
 * (FAILED when the type is unknown), run it, and map what it reports through the retry policy.
 * Stateless; called on lanes, and by the watchdog for time-outs.
 */
final class ItemExecutor {
  private static final Logger log = LoggerFactory.getLogger(ItemExecutor.class);

  /**
   * Largest retry message sent: it must stay under Kafka's default 1 MiB record limit (broker
   * {@code message.max.bytes}, producer {@code max.request.size}) with its headers.
   */
  static final int MAX_RETRY_BYTES = 1_000_000;

  /** Encodes retry messages to measure them; encoding does not depend on decoding limits. */
  private static final MessageCodec ENCODER = new MessageCodec();

  /**
   * True when {@code next}, the retry of the task in {@code source}, fits in one Kafka record. Its
   * size is its own, not its source's: a message is re-encoded from what was decoded, and that can
   * be longer (Jackson writes {@code 1e6} as {@code 1000000.0}, three times the bytes; no form
   * grows more than that), so a source up to a quarter of the limit needs no encoding to tell.
   */
  static boolean retryFits(byte[] source, TaskMessage next) {
    if (source == null || source.length <= MAX_RETRY_BYTES / 4) return true;
    return retryBytes(next) <= MAX_RETRY_BYTES;
  }

  /** The size of {@code next} as a retry message. */
  static int retryBytes(TaskMessage next) {
    return ENCODER.encodeTask(next).length;
  }

  /**
   * How long an item of an unknown type waits before a worker looks at it again: a minute, or a
   * quarter of a window shorter than four minutes (at least a second), so that such a window is
   * looked at several times before it closes.
   */
  static long unknownTypeDelayMillis(java.time.Duration window) {
    return Math.clamp(window.toMillis() / 4, 1_000, 60_000);
  }

  /** Decodes records. */
  private final MessageCodec codec;

  /** Task types and their settings. */
  private final FleetConfig config;

  /** Handlers by type. */
  private final HandlerRegistry handlers;

  /** Worker settings (plain-ID defaults). */
  private final WorkerSettings settings;

  /** Stamps results. */
  private final Clock clock;

  /** Handlers' progress checkpoints in Redis; null when Redis is off. */
  private final Checkpoints checkpoints;

  ItemExecutor(
      WorkerSettings settings,
      FleetConfig config,
      HandlerRegistry handlers,
      Clock clock,
      Checkpoints checkpoints) {
    this.checkpoints = checkpoints;
    this.codec = new MessageCodec(settings.codecLimits());
    this.config = config;
    this.handlers = handlers;
    this.settings = settings;
    this.clock = clock;
  }

  /** Decodes a record; plain item IDs take job and type from headers, then worker defaults. */
  Decoded<TaskMessage> decode(ConsumerRecord<byte[], byte[]> r) {
    return decode(r, null);
  }

  /**
   * Decodes a slot's record, noting on the slot whether it is a replay. The headers are read in one
   * pass, in place (see {@link RawHeaders}).
   */
  Decoded<TaskMessage> decode(PartitionState.Slot slot) {
    return decode(slot.record, slot);
  }

  private Decoded<TaskMessage> decode(ConsumerRecord<byte[], byte[]> r, PartitionState.Slot slot) {
    String job = null;
    String type = null;
    for (Header h : r.headers()) {
      switch (RawHeaders.kind(h)) {
        case JOB -> job = RawHeaders.value(h);
        case TYPE -> type = RawHeaders.value(h);
        case REPLAY -> {
          if (slot != null) slot.replay = true;
        }
        case OTHER -> {}
      }
    }
    Optional<String> j = job == null ? settings.defaultJob() : Optional.of(job);
    Optional<String> t = type == null ? settings.defaultType() : Optional.of(type);
    return codec.decodeTask(
        r.value(),
        name ->
            name.equals(FleetHeaders.JOB)
                ? j
                : name.equals(FleetHeaders.TYPE) ? t : Optional.empty());
  }

  /** True when a handler is registered for {@code type}. */
  boolean knowsType(String type) {
    return handlers.forType(type).isPresent();
  }

  /** The effective settings of a task: its type's (or the defaults), then its own options. */
  TaskSettings settingsFor(TaskMessage task) {
    if (task.attempt() > TaskSettings.MAX_RETRIES) {
      throw new IllegalArgumentException(
          "attempt must be in [0, "
              + TaskSettings.MAX_RETRIES
              + "] (the most retries any type allows), was "
              + task.attempt());
    }
    return config
        .type(task.type())
        .map(TaskType::settings)
        .orElse(config.defaults())
        .with(task.options());
  }

  /**
   * Runs {@code a} on the calling lane. Returns null when the attempt was taken over by the
   * watchdog.
   */
  ItemResult run(Attempt a) {
    ConsumerRecord<byte[], byte[]> r = a.slot.record;
    TaskMessage task = a.decoded;
    if (task == null) {
      Decoded<TaskMessage> d = decode(a.slot);
      if (d instanceof Decoded.Invalid<TaskMessage> invalid) {
        return poison(r, invalid.error());
      }
      task = d.orThrow();
    }
    Optional<TaskHandler> handler = handlers.forType(task.type());
    GateKeys keys = a.keys; // set by the Redis gate, which worked the settings out already
    TaskSettings s;
    try {
      s = keys != null ? keys.settings() : settingsFor(task);
    } catch (IllegalArgumentException e) {
      return badOptions(task, e, r);
    }
    if (handler.isEmpty()) {
      long now = clock.millis();
      long since = Math.min(unknownSince(r).orElse(now), now); // a future stamp counts as now
      TaskMessage later =
          task.withNotBefore(
              Instant.ofEpochMilli(now + unknownTypeDelayMillis(settings.unknownTypeWindow())));
      boolean inWindow = now - since < settings.unknownTypeWindow().toMillis();
      boolean fits = !inWindow || retryFits(r.value(), later);
      if (inWindow && fits) {
        // Passed on for a worker that knows the type (a rolling deploy, a stale fleet.yaml).
        return ItemResult.deferred(later, Instant.ofEpochMilli(now), since);
      }
      FailureEvent f =
          FailureEvent.failed(
              task,
              task.attempt(),
              false,
              "config.unknown_type",
              "unknown task type '"
                  + task.type()
                  + "' (known here: "
                  + handlers.knownTypes()
                  + (fits
                      ? "; no worker took it within "
                          + settings.unknownTypeWindow().toMinutes()
                          + " min)"
                      : "; not passed on for another worker: its message, re-encoded, would be"
                          + " over the "
                          + MAX_RETRY_BYTES
                          + " bytes one Kafka record carries)"),
              clock.instant(),
              Optional.of(source(r)));
      return ItemResult.terminal(
          Outcome.FAILED, task.job(), task.type(), false, 0, Optional.of(f), f.failedAt());
    }
    a.task = task;
    a.settings = s;
    long start = System.nanoTime();
    a.startNanos = start;
    a.deadlineNanos = start + s.timeout().toNanos();
    HandlerResult result;
    Throwable thrown = null;
    final TaskMessage t = task;
    TaskView context =
        checkpoints == null || keys == null
            ? new RunningTask(t, a)
            : new CheckpointingContext(t, checkpoints, keys, s.idempotencyTtl(), a);
    try {
      result = handler.get().handle(context);
      if (result == null) {
        result =
            HandlerResult.failed(
                "handler.null", "handler for type '" + t.type() + "' returned no result");
      }
    } catch (InterruptedException e) {
      // The watchdog interrupted us past the deadline and has posted the time-out already.
      return null;
    } catch (Throwable e) {
      // Any throwable but the JVM's own failures (out of memory, an internal error), which stop
      // the worker: an AssertionError or a class its jar lacks (NoClassDefFoundError) is the
      // handler's, retried like an exception — before, the lane logged each as a worker error.
      if (FatalSignal.isFatal(e)) throw (VirtualMachineError) e;
      log.debug("handler for {} threw", t.item(), e);
      result = HandlerResult.retry(errorClassOf(e), e.getMessage()); // null: "", not "null"
      thrown = e;
    }
    return afterAttempt(t, s, result, System.nanoTime() - start, r, stack(thrown));
  }

  /**
   * A task whose options its type's settings reject (e.g. a zero timeout): FAILED for good, with
   * the reason; it can never run as sent.
   */
  ItemResult badOptions(TaskMessage task, IllegalArgumentException e, ConsumerRecord<?, ?> r) {
    return failedUnrun(task, "task.bad_options", "options cannot apply: " + e.getMessage(), r);
  }

  /** A FAILED outcome, not retried, for an item that could not be run: why, as its failure. */
  ItemResult failedUnrun(
      TaskMessage task, String errorClass, String message, ConsumerRecord<?, ?> r) {
    FailureEvent f =
        FailureEvent.failed(
            task,
            task.attempt(),
            false,
            errorClass,
            message,
            clock.instant(),
            Optional.of(source(r)));
    return ItemResult.terminal(
        Outcome.FAILED, task.job(), task.type(), false, 0, Optional.of(f), f.failedAt());
  }

  /** The result of an attempt that ran past its timeout; a retryable failure. */
  ItemResult timedOut(Attempt a) {
    long ran = System.nanoTime() - a.startNanos;
    HandlerResult timeout =
        HandlerResult.retry(
            "timeout", "attempt timed out after " + a.settings.timeout().toMillis() + " ms");
    return afterAttempt(a.task, a.settings, timeout, ran, a.slot.record, Optional.empty());
  }

  private static Optional<String> stack(Throwable t) {
    return t == null ? Optional.empty() : Optional.of(StackTraceText.of(t));
  }

  /**
   * A bug outside the handler: retried like a failed attempt when the task is known, else POISON.
   */
  /**
   * The error class of a throwable: its simple name, or, for an anonymous class (whose simple name
   * is empty, and which a failure event refuses), its binary name without the package.
   */
  static String errorClassOf(Throwable e) {
    String simple = e.getClass().getSimpleName();
    if (!simple.isEmpty()) return simple;
    String name = e.getClass().getName();
    return name.substring(name.lastIndexOf('.') + 1);
  }

  ItemResult crashed(Attempt a, Throwable e) {
    if (a.task != null && a.settings != null) {
      return afterAttempt(
          a.task,
          a.settings,
          HandlerResult.retry("worker." + errorClassOf(e), e.getMessage()),
          0,
          a.slot.record,
          stack(e));
    }
    return poison(
        a.slot.record, new DecodeError(DecodeError.Kind.INVALID_VALUE, "$", "worker error: " + e));
  }

  private ItemResult afterAttempt(
      TaskMessage task,
      TaskSettings s,
      HandlerResult result,
      long nanos,
      ConsumerRecord<byte[], byte[]> r,
      Optional<String> stack) {
    Instant now = Instant.ofEpochMilli(clock.millis()); // millis suffice, and cost less
    int attemptsMade = task.attempt() + 1;
    return switch (result) {
      case HandlerResult.Succeeded ok ->
          withValue(
              ItemResult.terminal(
                  Outcome.SUCCEEDED, task.job(), task.type(), true, nanos, Optional.empty(), now),
              stored(s, ok.result()));
      case HandlerResult.Failed f ->
          failed(task, attemptsMade, false, f.errorClass(), f.message(), nanos, now, r, stack);
      case HandlerResult.Retry retry -> {
        if (!RetryPolicy.canRetry(s, attemptsMade)) {
          yield failed(
              task,
              attemptsMade,
              true,
              retry.errorClass(),
              "retries exhausted after " + attemptsMade + " attempts: " + retry.message(),
              nanos,
              now,
              r,
              stack);
        }
        Duration delay =
            retry.after().isPresent()
                ? RetryPolicy.requestedDelay(
                    s, attemptsMade, retry.after().get(), ThreadLocalRandom.current()::nextDouble)
                : RetryPolicy.nextDelay(s, attemptsMade, ThreadLocalRandom.current()::nextDouble);
        TaskMessage next = task.nextAttempt(now.plus(delay));
        if (!retryFits(r.value(), next)) {
          // Its retry message would not fit in one Kafka record: no transaction could carry it.
          yield failed(
              task,
              attemptsMade,
              true,
              "task.too_large_to_retry",
              "its retry message would be "
                  + retryBytes(next)
                  + " bytes (the task record is "
                  + r.value().length
                  + "), over the "
                  + MAX_RETRY_BYTES
                  + " a retry can carry; not retried after: "
                  + retry.message(),
              nanos,
              now,
              r,
              stack);
        }
        yield ItemResult.retry(next, nanos, now);
      }
    };
  }

  private ItemResult failed(
      TaskMessage task,
      int attempts,
      boolean retryable,
      String errorClass,
      String message,
      long nanos,
      Instant now,
      ConsumerRecord<byte[], byte[]> r,
      Optional<String> stack) {
    FailureEvent f =
        FailureEvent.failed(
                task, attempts, retryable, errorClass, message, now, Optional.of(source(r)))
            .withStackTrace(stack);
    return ItemResult.terminal(
        Outcome.FAILED, task.job(), task.type(), true, nanos, Optional.of(f), now);
  }

  ItemResult poison(ConsumerRecord<byte[], byte[]> r, DecodeError error) {
    // Attributed to the job and type the record names — in its compact value, its JSON or its
    // headers, else the worker's defaults, as a record that decodes is — so that its job, whose
    // manifest counts it, completes.
    Optional<String> job =
        MessageCodec.compactPart(r.value(), 0)
            .or(() -> MessageCodec.jsonText(r.value(), "job"))
            .or(() -> header(r, FleetHeaders.JOB))
            .or(settings::defaultJob)
            .filter(j -> Names.problem("job", j).isEmpty());
    Optional<String> type =
        MessageCodec.compactPart(r.value(), 1)
            .or(() -> MessageCodec.jsonText(r.value(), "type"))
            .or(() -> header(r, FleetHeaders.TYPE))
            .or(settings::defaultType)
            .filter(t -> Names.problem("type", t).isEmpty());
    Instant now = clock.instant();
    byte[] raw = r.value() == null ? new byte[0] : r.value();
    FailureEvent f = FailureEvent.poison(raw, error, job, type, now, Optional.of(source(r)));
    log.debug("poison record at {}: {}", source(r), error);
    return ItemResult.terminal(
        Outcome.POISON,
        job.orElse(FailureEvent.UNATTRIBUTED),
        type.orElse(FailureEvent.UNATTRIBUTED),
        false,
        0,
        Optional.of(f),
        now);
  }

  /**
   * The part of a handler's result that can be used: only a result stored with the cache entry
   * ({@code persistResult}), and only if it is short enough to be stored. A result waits in its
   * partition's window until everything before it commits, tens of thousands of them behind one
   * slow item, so a result kept for nothing (a `process` child's reply can be 16 Mi characters)
   * could fill the heap.
   */
  private static Optional<String> stored(TaskSettings s, Optional<String> result) {
    return s.persistResult()
            && result.isPresent()
            && result.get().length() <= RedisGate.MAX_CACHED_RESULT
        ? result
        : Optional.empty();
  }

  private static ItemResult withValue(ItemResult r, Optional<String> value) {
    return value.isEmpty() ? r : r.withValue(value);
  }

  static SourceRecord source(ConsumerRecord<?, ?> r) {
    return new SourceRecord(r.topic(), r.partition(), r.offset());
  }

  /** When a worker first found this record's type unknown, from its header. */
  static Optional<Long> unknownSince(ConsumerRecord<?, ?> r) {
    Header h = r.headers().lastHeader(FleetHeaders.UNKNOWN_SINCE);
    if (h == null || h.value() == null) return Optional.empty();
    try {
      return Optional.of(
          Long.parseLong(new String(h.value(), java.nio.charset.StandardCharsets.US_ASCII)));
    } catch (NumberFormatException e) {
      return Optional.empty(); // a forged or damaged header: count from now
    }
  }

  private static Optional<String> header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? Optional.empty() : Optional.ofNullable(RawHeaders.value(h));
  }
}
