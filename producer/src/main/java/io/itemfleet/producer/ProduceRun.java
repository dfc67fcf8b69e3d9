package io.itemfleet.producer;

import com.fasterxml.jackson.databind.JsonNode;
import io.itemfleet.schemas.FleetHeaders;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.schemas.JobManifest;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.schemas.TaskOptions;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * One produce run: items submitted to one job and task type, then a manifest that adds the number
 * acknowledged to the job's expected total. Submit from one thread.
 */
public final class ProduceRun {
  /** The shared producer. */
  private final Producer<String, byte[]> producer;

  /** Topic names. */
  private final FleetTopics topics;

  /** The tasks topic's name, built once (FleetTopics builds it per call). */
  private final String tasksTopic;

  /** Encodes messages. */
  private final MessageCodec codec;

  /** Stamps the manifest. */
  private final Clock clock;

  /** The job items are added to. */
  private final String job;

  /** The task type of every item. */
  private final String type;

  /** Distinguishes this run's manifest from other runs of the same job. */
  private final String runId;

  /** Free-form labels for the manifest. */
  private final Map<String, String> labels;

  /** Messages handed to the producer; written by the submitting thread only. */
  private long submitted;

  /** Messages the broker acknowledged; written by the producer's I/O thread. */
  private final AtomicLong acked = new AtomicLong();

  /** Messages that could not be sent. */
  private final AtomicLong failed = new AtomicLong();

  /** The first send error, for the report. */
  private final AtomicReference<Exception> firstError = new AtomicReference<>();

  /** The replay mark ({@code fleet replay}). */
  private static final Header REPLAY_HEADER =
      new RecordHeader(FleetHeaders.REPLAY, new byte[] {'1'});

  /** The start of every compact record's value: the run's job and type. */
  private final byte[] compactPrefix;

  /**
   * The headers of a record without options or payload, shared by every such record of the run
   * (headers are immutable; each record gets its own list of them): in the compact form none, or
   * the replay mark; in the headers form the job and type, and the replay mark.
   */
  private final List<Header> simpleHeaders;

  /** How records without options or payload are sent. */
  private final RecordForm form;

  /** Whether every message carries the replay header ({@code fleet replay}). */
  private final boolean replay;

  /** Counts each acknowledgement or failure. */
  private final Callback callback = this::onCompletion;

  ProduceRun(
      Producer<String, byte[]> producer,
      FleetTopics topics,
      MessageCodec codec,
      Clock clock,
      String job,
      String type,
      String runId,
      Map<String, String> labels,
      boolean replay,
      RecordForm form) {
    this.replay = replay;
    // Validates job and type the way workers will.
    TaskMessage.of(job, type, "probe");
    this.producer = producer;
    this.topics = topics;
    this.tasksTopic = topics.tasks();
    this.codec = codec;
    this.clock = clock;
    this.job = job;
    this.type = type;
    this.runId = runId;
    this.labels = Map.copyOf(labels);
    this.form = form;
    this.compactPrefix = MessageCodec.compactPrefix(job, type);
    List<Header> named =
        List.of(
            new RecordHeader(FleetHeaders.JOB, job.getBytes(StandardCharsets.UTF_8)),
            new RecordHeader(FleetHeaders.TYPE, type.getBytes(StandardCharsets.UTF_8)));
    if (form == RecordForm.COMPACT) {
      this.simpleHeaders = replay ? List.of(REPLAY_HEADER) : null;
    } else {
      this.simpleHeaders = replay ? List.of(named.get(0), named.get(1), REPLAY_HEADER) : named;
    }
  }

  /** The outcome of a run. */
  public record Result(
      long submitted,
      long acknowledged,
      long failed,
      Optional<Exception> firstError,
      Optional<JobManifest> manifest) {
    /** True when every submitted message was acknowledged and the manifest was published. */
    public boolean complete() {
      return failed == 0 && acknowledged == submitted && (submitted == 0 || manifest.isPresent());
    }
  }

  public String runId() {
    return runId;
  }

  /**
   * Enqueues one item with no payload or options. The fast path of {@code fleet produce}: the item
   * goes out in the run's {@link RecordForm} (see {@link #record}), built from what the run worked
   * out once (the compact prefix, the shared headers), without a {@link TaskMessage} or JSON. An
   * empty ID, or in the headers form an ID the plain value would change, takes the checked path.
   */
  public void submit(String item) {
    if (item.isEmpty() || (form == RecordForm.HEADERS && !plainId(item))) {
      submit(TaskMessage.of(job, type, item));
      return;
    }
    submitted++;
    try {
      producer.send(simple(item), callback);
    } catch (RuntimeException e) {
      onCompletion(null, e);
    }
  }

  /** The record of an item without options or payload, in the run's {@link RecordForm}. */
  private ProducerRecord<String, byte[]> simple(String item) {
    byte[] value =
        form == RecordForm.COMPACT
            ? MessageCodec.compact(compactPrefix, item)
            : item.getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(tasksTopic, null, null, item, value, simpleHeaders);
  }

  /** True when the ID travels unchanged as a plain value: no leading '{', no outer whitespace. */
  private static boolean plainId(String item) {
    return item.charAt(0) != '{'
        && !Character.isWhitespace(item.charAt(0))
        && !Character.isWhitespace(item.charAt(item.length() - 1));
  }

  /** Enqueues one item with per-message options and a payload ({@code NullNode} for none). */
  public void submit(String item, TaskOptions options, JsonNode payload) {
    submit(TaskMessage.of(job, type, item).withOptions(options).withPayload(payload));
  }

  /** Enqueues a full task message; its job and type must be this run's. */
  public void submit(TaskMessage task) {
    if (!task.job().equals(job) || !task.type().equals(type)) {
      throw new IllegalArgumentException(
          "run for job '"
              + job
              + "', type '"
              + type
              + "' got a message for job '"
              + task.job()
              + "', type '"
              + task.type()
              + "'");
    }
    submitted++;
    try {
      producer.send(record(task), callback);
    } catch (RuntimeException e) {
      onCompletion(null, e);
    }
  }

  public long submitted() {
    return submitted;
  }

  public long acknowledged() {
    return acked.get();
  }

  /** Sends that failed so far; a caller may stop submitting once this is non-zero. */
  public long failed() {
    return failed.get();
  }

  public Optional<Exception> firstError() {
    return Optional.ofNullable(firstError.get());
  }

  /**
   * Waits for every message to be acknowledged or failed, then publishes the manifest for the
   * acknowledged ones (none when nothing was acknowledged).
   */
  public Result finish(Duration timeout) {
    producer.flush();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (acked.get() + failed.get() < submitted && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(
          1_000_000); // callbacks trail flush() by microseconds
    }
    long ok = acked.get();
    Optional<JobManifest> manifest = Optional.empty();
    if (ok > 0) {
      JobManifest m = new JobManifest(job, type, ok, runId, clock.instant(), labels);
      try {
        var sent =
            producer.send(
                new ProducerRecord<>(
                    topics.jobs(),
                    io.itemfleet.schemas.JobEventKeys.manifest(m),
                    codec.encodeJobEvent(m)));
        producer.flush(); // out now, not after linger.ms
        sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        manifest = Optional.of(m);
      } catch (ExecutionException e) {
        firstError.compareAndSet(null, e.getCause() instanceof Exception c ? c : e);
      } catch (TimeoutException e) {
        firstError.compareAndSet(null, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        firstError.compareAndSet(null, e);
      }
    }
    return new Result(submitted, ok, submitted - ok, firstError(), manifest);
  }

  /**
   * A first attempt with no payload or options travels as a compact item: {@code RS job US type US
   * item} in the value ({@link MessageCodec#compactPrefix}), the item ID as the key, no headers —
   * about the bytes of a bare ID as key and value, and no JSON or headers to parse in the worker.
   * Anything else is JSON.
   */
  private ProducerRecord<String, byte[]> record(TaskMessage task) {
    String item = task.item();
    boolean simple =
        task.attempt() == 0
            && task.notBefore().isEmpty()
            && task.payload().isNull()
            && task.options().isEmpty()
            && !item.isEmpty()
            && (form == RecordForm.COMPACT || plainId(item));
    ProducerRecord<String, byte[]> r;
    if (simple) {
      return simple(item);
    }
    r = new ProducerRecord<>(tasksTopic, item, codec.encodeTask(task));
    if (replay) r.headers().add(REPLAY_HEADER);
    return r;
  }

  private void onCompletion(RecordMetadata metadata, Exception error) {
    if (error == null) {
      acked.incrementAndGet();
    } else {
      failed.incrementAndGet();
      firstError.compareAndSet(null, error);
    }
  }
}
