package io.itemfleet.schemas;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.schemas.DecodeError.Kind;
import io.itemfleet.schemas.FieldReader.Rejection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Decodes, validates and encodes every ItemFleet message. Decoding never throws: a record that is
 * oversize, not UTF-8, not JSON, of an unknown version or with a missing or mistyped field comes
 * back as {@link Decoded.Invalid} naming the field and the cause. Thread-safe.
 */
public final class MessageCodec {
  /** The only message version this build reads and writes. */
  public static final int VERSION = 1;

  private static final int MAX_NAME = 256;
  private static final int MAX_TEXT = 64 * 1024;

  /** Parses and writes JSON; configured once, shared by all threads. */
  private static final ObjectMapper JSON =
      new ObjectMapper(
              // An astral character (an emoji) as its four UTF-8 bytes, not as two escapes of six
              // bytes each: a message read from Kafka and written again (a retry) stays as large
              // as it was, so that it still fits in one record.
              JsonFactory.builder()
                  .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
                  .build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final JsonFactory FACTORY = JSON.getFactory();

  /** The limits applied to every decode. */
  private final CodecLimits limits;

  public MessageCodec(CodecLimits limits) {
    this.limits = limits;
  }

  public MessageCodec() {
    this(CodecLimits.DEFAULTS);
  }

  public CodecLimits limits() {
    return limits;
  }

  // ---- task messages -------------------------------------------------------------------------

  /** Starts a compact item ({@link #compactPrefix}): ASCII record separator. */
  public static final byte COMPACT = 0x1e;

  /** Ends the job and the type in a compact item: ASCII unit separator. */
  public static final byte SEPARATOR = 0x1f;

  /**
   * Decodes a record from the tasks or retry topics. A value that starts with {@link #COMPACT} is a
   * compact item (job, type and item ID in the value, see {@link #compactPrefix}); any other value
   * that is not a JSON object is a plain item ID whose job and type come from the {@link
   * FleetHeaders} headers.
   */
  public Decoded<TaskMessage> decodeTask(byte[] value, HeaderLookup headers) {
    try {
      checkBytes(value);
      if (value.length > 0 && value[0] == COMPACT) {
        return new Decoded.Ok<>(compactItem(value));
      }
      if (!startsWithBrace(value)) {
        return new Decoded.Ok<>(plainItem(value, headers));
      }
      FieldReader r = root(value);
      checkVersion(r);
      TaskMessage task =
          new TaskMessage(
              name("job", r.string("job", MAX_NAME), r.field("job")),
              name("type", r.string("type", MAX_NAME), r.field("type")),
              itemId(r.string("item", limits.maxItemIdBytes()), r.field("item")),
              (int) r.optInteger("attempt", 0, Integer.MAX_VALUE).orElse(0),
              r.optInstant("notBefore"),
              r.any("payload"),
              r.optObject("options").map(MessageCodec::options).orElse(TaskOptions.NONE));
      return new Decoded.Ok<>(task);
    } catch (Rejection e) {
      return new Decoded.Invalid<>(e.error);
    } catch (IllegalArgumentException e) { // a record's own rule (TaskMessage): never a crash
      return new Decoded.Invalid<>(new DecodeError(Kind.INVALID_VALUE, "$", e.getMessage()));
    }
  }

  public byte[] encodeTask(TaskMessage t) {
    if (t.attempt() == 0
        && t.notBefore().isEmpty()
        && t.payload().isNull()
        && t.options().isEmpty()) {
      // The common case, a first attempt with nothing but job, type and item: no generator needed.
      StringBuilder sb =
          new StringBuilder(32 + t.job().length() + t.type().length() + t.item().length());
      sb.append("{\"v\":").append(VERSION).append(",\"job\":");
      quote(sb, t.job()).append(",\"type\":");
      quote(sb, t.type()).append(",\"item\":");
      quote(sb, t.item()).append('}');
      return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
    return write(
        g -> {
          g.writeNumberField("v", VERSION);
          g.writeStringField("job", t.job());
          g.writeStringField("type", t.type());
          g.writeStringField("item", t.item());
          if (t.attempt() > 0) {
            g.writeNumberField("attempt", t.attempt());
          }
          if (t.notBefore().isPresent()) {
            g.writeStringField("notBefore", t.notBefore().get().toString());
          }
          if (!t.payload().isNull() && !t.payload().isMissingNode()) {
            g.writeFieldName("payload");
            JSON.writeTree(g, t.payload());
          }
          if (!t.options().isEmpty()) {
            g.writeObjectFieldStart("options");
            writeOptions(g, t.options());
            g.writeEndObject();
          }
        });
  }

  /**
   * The start of a compact item's value: {@code RS job US type US}, to which the item ID's UTF-8
   * bytes are appended ({@link #compact}). What {@code fleet produce} sends for an item with no
   * options or payload: no headers to build, send, store and parse per record, and nothing
   * ambiguous, since job and type names and item IDs never contain control characters.
   *
   * @throws IllegalArgumentException for a job or type name {@link Names} refuses
   */
  public static byte[] compactPrefix(String job, String type) {
    Names.problem("job", job).ifPresent(p -> fail(p));
    Names.problem("type", type).ifPresent(p -> fail(p));
    byte[] j = job.getBytes(StandardCharsets.UTF_8);
    byte[] t = type.getBytes(StandardCharsets.UTF_8);
    byte[] prefix = new byte[j.length + t.length + 3];
    prefix[0] = COMPACT;
    System.arraycopy(j, 0, prefix, 1, j.length);
    prefix[1 + j.length] = SEPARATOR;
    System.arraycopy(t, 0, prefix, 2 + j.length, t.length);
    prefix[prefix.length - 1] = SEPARATOR;
    return prefix;
  }

  private static void fail(String problem) {
    throw new IllegalArgumentException(problem);
  }

  /** A compact item's value: {@code prefix} (from {@link #compactPrefix}) and the item ID. */
  public static byte[] compact(byte[] prefix, String item) {
    byte[] id = item.getBytes(StandardCharsets.UTF_8);
    byte[] value = java.util.Arrays.copyOf(prefix, prefix.length + id.length);
    System.arraycopy(id, 0, value, prefix.length, id.length);
    return value;
  }

  /**
   * The job (part 0) or type (part 1) named by a compact item's value, when it is one and that part
   * is there; unchecked (a poison record's attribution checks it).
   */
  public static Optional<String> compactPart(byte[] value, int part) {
    if (value == null || value.length == 0 || value[0] != COMPACT) return Optional.empty();
    int from = 1;
    for (int p = 0; ; p++) {
      int end = indexOf(value, SEPARATOR, from);
      if (end < 0) return Optional.empty();
      if (p == part)
        return Optional.of(new String(value, from, end - from, StandardCharsets.UTF_8));
      from = end + 1;
    }
  }

  /**
   * The top-level string field {@code name} of a JSON object, read as far as it takes to find it
   * (the rest of the value need not be valid): the job and type a POISON record is counted under
   * when it names them in its JSON. Empty when the value is not a JSON object or the field is not a
   * string found before the first error.
   */
  public static Optional<String> jsonText(byte[] value, String name) {
    if (value == null || !startsWithBrace(value)) return Optional.empty(); // as decodeTask reads
    try (JsonParser p = FACTORY.createParser(value)) {
      p.nextToken(); // START_OBJECT
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        long from = p.currentTokenLocation().getByteOffset(); // the name's opening quote
        String field = p.currentName();
        JsonToken v = p.nextToken();
        if (field.equals(name)) {
          if (v != JsonToken.VALUE_STRING) return Optional.empty();
          String text = p.getText();
          // The parser reads some bytes that are not UTF-8 (an overlong ')' as C0 A9), in names
          // as in values: the field's own bytes, from its name's opening quote to past its
          // value's closing one, must be UTF-8.
          long to = p.currentLocation().getByteOffset();
          if (from < 0 || to > value.length || to < from) return Optional.empty();
          return isUtf8(value, (int) from, (int) (to - from))
              ? Optional.of(text)
              : Optional.empty();
        }
        p.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      // not JSON from here on: the field was not found before
    }
    return Optional.empty();
  }

  private static int indexOf(byte[] value, byte b, int from) {
    for (int i = from; i < value.length; i++) {
      if (value[i] == b) return i;
    }
    return -1;
  }

  /** A compact item ({@link #compactPrefix}); the value is known to be UTF-8. */
  private TaskMessage compactItem(byte[] value) {
    int jobEnd = indexOf(value, SEPARATOR, 1);
    int typeEnd = jobEnd < 0 ? -1 : indexOf(value, SEPARATOR, jobEnd + 1);
    if (typeEnd < 0) {
      throw new Rejection(
          Kind.INVALID_VALUE,
          "$",
          "a compact item (value starting with U+001E) needs job U+001F type U+001F item ID");
    }
    // name() refuses an empty or over-long name as well as control characters (Names).
    return TaskMessage.of(
        name("job", text(value, 1, jobEnd), "job"),
        name("type", text(value, jobEnd + 1, typeEnd), "type"),
        itemId(text(value, typeEnd + 1, value.length), "item"));
  }

  /** UTF-8 bytes already checked as such, as a string; ASCII without a decoder. */
  private static String text(byte[] value, int from, int to) {
    for (int i = from; i < to; i++) {
      if (value[i] < 0) return new String(value, from, to - from, StandardCharsets.UTF_8);
    }
    return new String(value, from, to - from, StandardCharsets.ISO_8859_1);
  }

  private TaskMessage plainItem(byte[] value, HeaderLookup headers) {
    String item =
        plainAscii(value)
            ? new String(value, StandardCharsets.ISO_8859_1) // nothing to strip, check or decode
            : itemId(new String(value, StandardCharsets.UTF_8).strip(), "$");
    String job = header(headers, FleetHeaders.JOB);
    String type = header(headers, FleetHeaders.TYPE);
    return TaskMessage.of(job, type, item);
  }

  private static String header(HeaderLookup headers, String name) {
    // Taken exactly as sent, as a compact value's and a JSON task's names are, and as the
    // manifest's is: stripped, "J " counted under "J", a job the manifest did not name.
    String v =
        headers
            .get(name)
            .orElseThrow(
                () ->
                    new Rejection(
                        Kind.MISSING_FIELD,
                        "header " + name,
                        "a plain item ID needs the " + name + " header (or a worker default)"));
    if (v.isEmpty() || v.length() > MAX_NAME) {
      throw new Rejection(
          Kind.INVALID_VALUE,
          "header " + name,
          "must be 1 to " + MAX_NAME + " characters, was " + v.length());
    }
    return name(name.equals(FleetHeaders.JOB) ? "job" : "type", v, "header " + name);
  }

  /** A job or type name, checked by {@link Names}; a bad one makes the record POISON. */
  private static String name(String what, String value, String field) {
    Names.problem(what, value)
        .ifPresent(
            p -> {
              throw new Rejection(Kind.INVALID_VALUE, field, p);
            });
    return value;
  }

  private String itemId(String item, String field) {
    if (item.isEmpty()) {
      throw new Rejection(Kind.INVALID_VALUE, field, "the item ID is empty");
    }
    int bytes = utf8Length(item);
    if (bytes > limits.maxItemIdBytes()) {
      throw new Rejection(
          Kind.INVALID_VALUE,
          field,
          "the item ID is " + bytes + " bytes, the limit is " + limits.maxItemIdBytes());
    }
    int lone = Names.unpairedSurrogate(item);
    if (lone >= 0) {
      throw badChar(
          field,
          "an unpaired surrogate",
          item,
          lone,
          " (not text: in a Redis key it would become '?' and share another item's key)");
    }
    for (int i = 0; i < item.length(); i++) {
      if (Names.isControl(item.charAt(i))) {
        throw badChar(field, "control character", item, i, "");
      }
    }
    return item;
  }

  /** "the item ID contains {what} U+XXXX at index {i}{why}". */
  private static Rejection badChar(String field, String what, String item, int i, String why) {
    return new Rejection(
        Kind.INVALID_VALUE,
        field,
        "the item ID contains "
            + what
            + " U+"
            + String.format("%04X", (int) item.charAt(i))
            + " at index "
            + i
            + why);
  }

  private static TaskOptions options(FieldReader o) {
    return new TaskOptions(
        o.optInt("retries", 0, TaskOptions.MAX_RETRIES),
        o.optDurations("retryDelays"),
        o.optObject("backoff").map(b -> backoff(b)),
        o.optNumber("jitter", 0, 1),
        o.optDuration("timeout"),
        o.optString("idempotencyKey", TaskOptions.MAX_KEY),
        o.optDuration("idempotencyTtl"),
        o.optString("cacheKey", TaskOptions.MAX_KEY),
        o.optDuration("cacheTtl"),
        o.optBoolean("persistResult"),
        o.optStrings("tags", TaskOptions.MAX_TAG));
  }

  private static Backoff backoff(FieldReader b) {
    Duration base = b.duration("base");
    Duration max = b.duration("max");
    try {
      return new Backoff(base, max);
    } catch (IllegalArgumentException e) {
      throw new Rejection(Kind.INVALID_VALUE, b.field("max"), e.getMessage());
    }
  }

  private static void writeOptions(JsonGenerator g, TaskOptions o) throws IOException {
    if (o.retries().isPresent()) g.writeNumberField("retries", o.retries().getAsInt());
    if (o.retryDelays().isPresent()) writeDurations(g, "retryDelays", o.retryDelays().get());
    if (o.backoff().isPresent()) {
      g.writeObjectFieldStart("backoff");
      g.writeStringField("base", Durations.format(o.backoff().get().base()));
      g.writeStringField("max", Durations.format(o.backoff().get().max()));
      g.writeEndObject();
    }
    if (o.jitter().isPresent()) g.writeNumberField("jitter", o.jitter().getAsDouble());
    if (o.timeout().isPresent()) g.writeStringField("timeout", Durations.format(o.timeout().get()));
    if (o.idempotencyKey().isPresent())
      g.writeStringField("idempotencyKey", o.idempotencyKey().get());
    if (o.idempotencyTtl().isPresent())
      g.writeStringField("idempotencyTtl", Durations.format(o.idempotencyTtl().get()));
    if (o.cacheKey().isPresent()) g.writeStringField("cacheKey", o.cacheKey().get());
    if (o.cacheTtl().isPresent())
      g.writeStringField("cacheTtl", Durations.format(o.cacheTtl().get()));
    if (o.persistResult().isPresent())
      g.writeBooleanField("persistResult", o.persistResult().get());
    if (o.tags().isPresent()) {
      g.writeArrayFieldStart("tags");
      for (String t : o.tags().get()) g.writeString(t);
      g.writeEndArray();
    }
  }

  private static void writeDurations(JsonGenerator g, String name, List<Duration> ds)
      throws IOException {
    g.writeArrayFieldStart(name);
    for (Duration d : ds) g.writeString(Durations.format(d));
    g.writeEndArray();
  }

  // ---- stats deltas --------------------------------------------------------------------------

  public Decoded<StatsDelta> decodeStats(byte[] value) {
    return decodeObject(
        value,
        r ->
            new StatsDelta(
                // Checked as a task's names are (any Kafka client can write this topic): a NUL
                // reached the recorder's completion check, which PostgreSQL refused, and stopped it
                // on every restart.
                name("job", r.string("job", MAX_NAME), "job"),
                name("type", r.string("type", MAX_NAME), "type"),
                minute(r),
                counts(r.object("counts")),
                r.optInteger("retries", 0, OutcomeCounts.MAX_DELTA).orElse(0),
                r.optInteger("handlerMillis", 0, OutcomeCounts.MAX_DELTA).orElse(0),
                r.any("latency").isNull()
                    ? LatencyHistogram.empty()
                    : LatencyHistogram.of(
                        r.integers("latency", LatencyHistogram.BUCKETS, OutcomeCounts.MAX_DELTA))));
  }

  public byte[] encodeStats(StatsDelta s) {
    return write(
        g -> {
          g.writeNumberField("v", VERSION);
          g.writeStringField("job", s.job());
          g.writeStringField("type", s.type());
          g.writeStringField("minute", s.minute().toString());
          writeCounts(g, s.counts());
          g.writeNumberField("retries", s.retries());
          g.writeNumberField("handlerMillis", s.handlerMillis());
          g.writeArrayFieldStart("latency");
          for (long c : s.latency().toArray()) g.writeNumber(c);
          g.writeEndArray();
        });
  }

  private static Instant minute(FieldReader r) {
    Instant m = r.instant("minute");
    if (m.getEpochSecond() % 60 != 0 || m.getNano() != 0) {
      throw new Rejection(
          Kind.INVALID_VALUE, r.field("minute"), "must be the start of a minute, was " + m);
    }
    return m;
  }

  /** A stats delta's counts: each at most {@link OutcomeCounts#MAX_DELTA}. */
  private static OutcomeCounts counts(FieldReader c) {
    return counts(c, OutcomeCounts.MAX_DELTA);
  }

  private static OutcomeCounts counts(FieldReader c, long max) {
    return new OutcomeCounts(
        c.integer("succeeded", 0, max),
        c.integer("cached", 0, max),
        c.integer("failed", 0, max),
        c.integer("deduplicated", 0, max),
        c.integer("poison", 0, max));
  }

  private static void writeCounts(JsonGenerator g, OutcomeCounts c) throws IOException {
    g.writeObjectFieldStart("counts");
    g.writeNumberField("succeeded", c.succeeded());
    g.writeNumberField("cached", c.cached());
    g.writeNumberField("failed", c.failed());
    g.writeNumberField("deduplicated", c.deduplicated());
    g.writeNumberField("poison", c.poison());
    g.writeEndObject();
  }

  // ---- failure events ------------------------------------------------------------------------

  public Decoded<FailureEvent> decodeFailure(byte[] value) {
    return decodeObject(
        value,
        r -> {
          String outcome = r.oneOf("outcome", "FAILED", "POISON");
          FieldReader err = r.object("error");
          Optional<FailureEvent.Poison> poison = r.optObject("poison").map(MessageCodec::poison);
          boolean failed = outcome.equals("FAILED");
          if (failed && r.any("attempts").isNull()) throw r.missing("attempts");
          if (!failed && poison.isEmpty()) throw r.missing("poison");
          // Names as a task's are checked (any Kafka client can write this topic, and the names
          // reach the ledger, the console and alert text): a bidi override or a control character
          // in a job name could make an alert read as another job's.
          Optional<String> job = r.optString("job", MAX_NAME).map(j -> name("job", j, "job"));
          Optional<String> type = r.optString("type", MAX_NAME).map(t -> name("type", t, "type"));
          // As a task's item: one with a NUL or a lone surrogate is stored as another item's text
          // (U+FFFD, '?'), and two of them in one batch made the recorder's upsert touch a row
          // twice.
          Optional<String> item =
              r.optString("item", limits.maxItemIdBytes()).map(i -> itemId(i, "item"));
          if (failed && job.isEmpty()) throw r.missing("job");
          if (failed && type.isEmpty()) throw r.missing("type");
          if (failed && item.isEmpty()) throw r.missing("item");
          return new FailureEvent(
              Outcome.valueOf(outcome),
              job,
              type,
              item,
              r.optInt("attempts", 0, Integer.MAX_VALUE).orElse(0),
              r.optBoolean("retryable").orElse(false),
              err.string("class", MAX_NAME),
              err.any("message").isNull() ? "" : textOrEmpty(err, "message"),
              r.instant("failedAt"),
              r.optObject("source").map(MessageCodec::source),
              r.any("payload"),
              failed ? Optional.empty() : poison,
              err.optString("stack", FailureEvent.MAX_STACK_CHARS));
        });
  }

  public byte[] encodeFailure(FailureEvent f) {
    return write(
        g -> {
          g.writeNumberField("v", VERSION);
          g.writeStringField("outcome", f.outcome().name());
          if (f.job().isPresent()) g.writeStringField("job", f.job().get());
          if (f.type().isPresent()) g.writeStringField("type", f.type().get());
          if (f.item().isPresent()) g.writeStringField("item", f.item().get());
          g.writeNumberField("attempts", f.attempts());
          g.writeBooleanField("retryable", f.retryable());
          g.writeObjectFieldStart("error");
          g.writeStringField("class", truncate(f.errorClass(), MAX_NAME));
          g.writeStringField("message", f.errorMessage()); // cut when the event was made
          if (f.stackTrace().isPresent()) {
            g.writeStringField(
                "stack", truncate(f.stackTrace().get(), FailureEvent.MAX_STACK_CHARS));
          }
          g.writeEndObject();
          g.writeStringField("failedAt", f.failedAt().toString());
          if (f.source().isPresent()) {
            SourceRecord s = f.source().get();
            g.writeObjectFieldStart("source");
            g.writeStringField("topic", s.topic());
            g.writeNumberField("partition", s.partition());
            g.writeNumberField("offset", s.offset());
            g.writeEndObject();
          }
          if (!f.payload().isNull() && !f.payload().isMissingNode()) {
            g.writeFieldName("payload");
            byte[] payload = JSON.writeValueAsBytes(f.payload());
            if (payload.length <= FailureEvent.MAX_PAYLOAD_BYTES) {
              g.writeRawValue(new String(payload, StandardCharsets.UTF_8));
            } else { // bounded, so that the event always fits in one Kafka record
              g.writeStartObject();
              g.writeObjectFieldStart(FailureEvent.PAYLOAD_OMITTED);
              g.writeNumberField("bytes", payload.length);
              g.writeStringField("sha256", FailureEvent.Poison.sha256(payload));
              g.writeEndObject();
              g.writeEndObject();
            }
          }
          if (f.poison().isPresent()) {
            FailureEvent.Poison p = f.poison().get();
            byte[] raw = p.raw();
            g.writeObjectFieldStart("poison");
            g.writeStringField(
                "raw",
                Base64.getEncoder()
                    .encodeToString(
                        raw.length <= FailureEvent.MAX_RAW_BYTES
                            ? raw
                            : java.util.Arrays.copyOf(raw, FailureEvent.MAX_RAW_BYTES)));
            g.writeNumberField("size", p.size());
            g.writeStringField("sha256", p.sha256());
            g.writeStringField("field", truncate(p.field(), MAX_TEXT));
            g.writeStringField("cause", truncate(p.cause(), MAX_TEXT));
            g.writeEndObject();
          }
        });
  }

  private static String textOrEmpty(FieldReader r, String name) {
    JsonNode v = r.any(name);
    if (!v.isTextual()) {
      throw new Rejection(Kind.WRONG_TYPE, r.field(name), "must be a string");
    }
    return v.textValue();
  }

  private static FailureEvent.Poison poison(FieldReader p) {
    // May be empty: a tombstone or an empty value on the tasks topic is POISON with no bytes.
    // Before,
    // the codec wrote such an event and then refused to read it: the recorder skipped it and the
    // POISON row was lost.
    String raw = textOrEmpty(p, "raw");
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(raw);
    } catch (IllegalArgumentException e) {
      throw new Rejection(Kind.INVALID_VALUE, p.field("raw"), "not base64: " + e.getMessage());
    }
    int size = (int) p.optInteger("size", bytes.length, Integer.MAX_VALUE).orElse(bytes.length);
    String sha = p.optString("sha256", 64).orElseGet(() -> FailureEvent.Poison.sha256(bytes));
    return new FailureEvent.Poison(
        bytes, p.string("field", MAX_TEXT), p.string("cause", MAX_TEXT), size, sha);
  }

  private static SourceRecord source(FieldReader s) {
    return new SourceRecord(
        s.string("topic", 249),
        (int) s.integer("partition", 0, Integer.MAX_VALUE),
        s.integer("offset", 0, Long.MAX_VALUE));
  }

  // ---- job events ----------------------------------------------------------------------------

  public Decoded<JobEvent> decodeJobEvent(byte[] value) {
    return decodeObject(
        value,
        r ->
            switch (r.oneOf("kind", "manifest", "completed", "resolved")) {
              case "manifest" ->
                  new JobManifest(
                      name("job", r.string("job", MAX_NAME), r.field("job")),
                      name("type", r.string("type", MAX_NAME), r.field("type")),
                      r.integer("count", 0, JobManifest.MAX_COUNT),
                      name("run", r.string("runId", 128), r.field("runId")),
                      r.instant("createdAt"),
                      r.optStringMap("labels"));
              case "resolved" ->
                  new ItemResolved(
                      r.string("job", MAX_NAME),
                      r.optString("type", MAX_NAME).orElse("?"),
                      r.string("item", 1024),
                      r.instant("resolvedAt"));
              default ->
                  new JobCompleted(
                      r.string("job", MAX_NAME),
                      r.optString("type", MAX_NAME).orElse("?"),
                      r.integer("total", 0, Long.MAX_VALUE),
                      counts(r.object("counts"), Long.MAX_VALUE), // the ledger's totals
                      r.optInteger("retries", 0, Long.MAX_VALUE).orElse(0),
                      r.instant("completedAt"));
            });
  }

  public byte[] encodeJobEvent(JobEvent e) {
    return write(
        g -> {
          g.writeNumberField("v", VERSION);
          switch (e) {
            case JobManifest m -> {
              g.writeStringField("kind", "manifest");
              g.writeStringField("job", m.job());
              g.writeStringField("type", m.type());
              g.writeNumberField("count", m.count());
              g.writeStringField("runId", m.runId());
              g.writeStringField("createdAt", m.createdAt().toString());
              g.writeObjectFieldStart("labels");
              for (Map.Entry<String, String> l : m.labels().entrySet())
                g.writeStringField(l.getKey(), l.getValue());
              g.writeEndObject();
            }
            case JobCompleted c -> {
              g.writeStringField("kind", "completed");
              g.writeStringField("job", c.job());
              g.writeStringField("type", c.type());
              g.writeNumberField("total", c.total());
              writeCounts(g, c.counts());
              g.writeNumberField("retries", c.retries());
              g.writeStringField("completedAt", c.completedAt().toString());
            }
            case ItemResolved i -> {
              g.writeStringField("kind", "resolved");
              g.writeStringField("job", i.job());
              g.writeStringField("type", i.type());
              g.writeStringField("item", i.item());
              g.writeStringField("resolvedAt", i.resolvedAt().toString());
            }
          }
        });
  }

  // ---- shared --------------------------------------------------------------------------------

  private <T> Decoded<T> decodeObject(byte[] value, Function<FieldReader, T> read) {
    try {
      checkBytes(value);
      if (!startsWithBrace(value)) {
        throw new Rejection(Kind.WRONG_TYPE, "$", "must be a JSON object");
      }
      FieldReader r = root(value);
      checkVersion(r);
      return new Decoded.Ok<>(read.apply(r));
    } catch (Rejection e) {
      return new Decoded.Invalid<>(e.error);
    } catch (IllegalArgumentException e) {
      // A record constructor's own rule, e.g. backoff.max < backoff.base.
      return new Decoded.Invalid<>(new DecodeError(Kind.INVALID_VALUE, "$", e.getMessage()));
    }
  }

  private void checkBytes(byte[] value) {
    if (value == null) {
      throw new Rejection(Kind.MISSING_FIELD, "$", "the record has no value (a tombstone)");
    }
    if (value.length > limits.maxMessageBytes()) {
      throw new Rejection(
          Kind.OVERSIZE,
          "$",
          "the value is " + value.length + " bytes, the limit is " + limits.maxMessageBytes());
    }
    checkUtf8(value);
  }

  /** True when {@code length} bytes of {@code value} from {@code offset} are strict UTF-8. */
  private static boolean isUtf8(byte[] value, int offset, int length) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value, offset, length));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static void checkUtf8(byte[] value) {
    for (byte b : value) {
      if (b < 0) {
        try {
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(value));
          return;
        } catch (CharacterCodingException e) {
          throw new Rejection(
              Kind.INVALID_UTF8, "$", "the value is not valid UTF-8 (" + e.getMessage() + ")");
        }
      }
    }
  }

  /**
   * True for the common item ID: 1 to the limit of printable ASCII bytes, no space at either end.
   * It passes every check of {@link #itemId} as it stands.
   */
  private boolean plainAscii(byte[] value) {
    int n = value.length;
    if (n == 0 || n > limits.maxItemIdBytes() || value[0] == ' ' || value[n - 1] == ' ') {
      return false;
    }
    for (byte b : value) {
      if (b < 0x20 || b > 0x7e) return false;
    }
    return true;
  }

  private static boolean startsWithBrace(byte[] value) {
    for (byte b : value) {
      if (b == '{') return true;
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
    }
    return false;
  }

  private static FieldReader root(byte[] value) {
    try {
      return new FieldReader(JSON.readTree(value), "");
    } catch (JsonProcessingException e) {
      throw new Rejection(Kind.MALFORMED_JSON, "$", "not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new Rejection(Kind.MALFORMED_JSON, "$", "not valid JSON: " + e.getMessage());
    }
  }

  private static void checkVersion(FieldReader r) {
    long v = r.integer("v", Long.MIN_VALUE, Long.MAX_VALUE);
    if (v != VERSION) {
      throw new Rejection(
          Kind.UNSUPPORTED_VERSION,
          "v",
          "unsupported message version " + v + " (this build reads " + VERSION + ")");
    }
  }

  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }

  private static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\') {
        return sb.append(
                com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s))
            .append('"');
      }
    }
    return sb.append(s).append('"');
  }

  /**
   * At most {@code max} characters, the last an ellipsis when cut (so that what is written always
   * decodes under the same limit), never splitting a surrogate pair.
   */
  static String truncate(String s, int max) {
    if (s.length() <= max) return s;
    int end = max - 1;
    if (Character.isHighSurrogate(s.charAt(end - 1))) end--;
    return s.substring(0, end) + "…";
  }

  @FunctionalInterface
  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      body.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("could not encode a message", e);
    }
    return out.toByteArray();
  }
}
