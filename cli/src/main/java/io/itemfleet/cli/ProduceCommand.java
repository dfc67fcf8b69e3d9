package io.itemfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.itemfleet.producer.ItemIdInput;
import io.itemfleet.producer.ItemRange;
import io.itemfleet.producer.ProduceRun;
import io.itemfleet.producer.RecordForm;
import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.Backoff;
import io.itemfleet.schemas.CodecLimits;
import io.itemfleet.schemas.Durations;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.schemas.TaskOptions;
import io.itemfleet.worker.config.KeyTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fleet produce}: enqueue the item IDs of a job. */
@Command(
    mixinStandardHelpOptions = true,
    name = "produce",
    sortOptions = false,
    description = {
      "Enqueue item IDs for a job: from a file, a numeric range, or stdin ('-'), one per line.",
      "Blank lines and '#' comments are skipped; the whole input is checked before anything is sent.",
      "Exit codes: 0 ok, 2 bad arguments or input, 3 broker unreachable, 4 partial send."
    })
final class ProduceCommand implements Callable<Integer> {
  static final int EXIT_UNREACHABLE = 3;
  static final int EXIT_PARTIAL = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Mixin KafkaOptions kafka;

  @Option(names = "--job", required = true, description = "Job ID the items are added to.")
  String job;

  @Option(
      names = "--type",
      required = true,
      description = "Task type (names a handler in fleet.yaml).")
  String type;

  @Option(names = "--ids-file", paramLabel = "FILE", description = "Read item IDs from FILE.")
  Path idsFile;

  @Option(
      names = "--range",
      paramLabel = "A..B",
      description = "Numeric item IDs A to B inclusive.")
  String range;

  @Parameters(arity = "0..1", paramLabel = "-", description = "'-' reads item IDs from stdin.")
  String stdin;

  @Option(
      names = "--payload",
      paramLabel = "JSON",
      description = "Payload template; $${item}, $${job}, $${type} in its strings are replaced.")
  String payload;

  @Option(
      names = "--tag",
      paramLabel = "TAG",
      description =
          "Tag for fleet-wide limits (repeatable); added to the task type's tags, never in place"
              + " of them.")
  List<String> tags;

  @Option(names = "--retries", description = "Attempts after the first.")
  Integer retries;

  @Option(
      names = "--retry-delays",
      paramLabel = "LIST",
      split = ",",
      description = "Delay per retry, e.g. 5s,10s,20s.")
  List<String> retryDelays;

  @Option(
      names = "--backoff",
      paramLabel = "BASE:MAX",
      description = "Exponential backoff, e.g. 1s:5m.")
  String backoff;

  @Option(names = "--jitter", description = "Jitter factor in [0, 1].")
  Double jitter;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Per-attempt timeout, e.g. 30s.")
  String timeout;

  @Option(
      names = "--idempotency-key",
      paramLabel = "TEMPLATE",
      description =
          "Idempotency key; $${item}, $${job}, $${type}, $${payloadHash} are replaced (':' and"
              + " '\\' in values escaped, as a worker fills fleet.yaml's).")
  String idempotencyKey;

  @Option(
      names = "--idempotency-ttl",
      paramLabel = "DURATION",
      description = "How long the item's done marker keeps it from running again (e.g. 7d).")
  String idempotencyTtl;

  @Option(
      names = "--cache-key",
      paramLabel = "TEMPLATE",
      description =
          "Cache key; $${item}, $${job}, $${type}, $${payloadHash} are replaced (':' and '\\'"
              + " in values escaped).")
  String cacheKey;

  @Option(
      names = "--cache-ttl",
      paramLabel = "DURATION",
      description = "How long a cache entry made by this message lasts (e.g. 1d).")
  String cacheTtl;

  @Option(
      names = "--persist-result",
      description = "Store the handler's result with the cache entry.")
  Boolean persistResult;

  @Option(
      names = "--label",
      paramLabel = "KEY=VALUE",
      description = "Label on the job manifest (repeatable), e.g. codeVersion=1.4.2.")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(
      names = "--record-form",
      paramLabel = "FORM",
      defaultValue = "${env:FLEET_RECORD_FORM:-compact}",
      description =
          "How items without options or payload are sent: compact (job, type and ID in the value;"
              + " the default) or headers (the ID as the value, job and type in fleet-job/fleet-type"
              + " headers: what workers built before 2026-11-29 read; use it until every worker is"
              + " upgraded). Env FLEET_RECORD_FORM.")
  String recordForm;

  @Option(
      names = "--skip-duplicates",
      description = "Send an ID repeated in the input only once (default: send all, report them).")
  boolean skipDuplicates;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      defaultValue = "15s",
      description = "How long to wait for the broker (default ${DEFAULT-VALUE}).")
  String connectTimeout;

  @Override
  public Integer call() throws IOException {
    PrintStream out = System.out;
    long t0 = System.nanoTime();
    // A label the recorder refuses would leave the job without a total: refused before sending.
    var labelProblem = io.itemfleet.schemas.JobManifest.labelsProblem(labels);
    if (labelProblem.isPresent()) throw new UsageException(Terminal.safe(labelProblem.get()));
    TaskOptions options = options();
    Function<String, JsonNode> payloadFor = payloadTemplate();
    Duration wait = duration("--connect-timeout", connectTimeout);
    RecordForm form = RecordForms.parse(recordForm, "--record-form");
    Map<String, Object> clientProperties = kafka.clientProperties();
    // Reach the broker and create missing topics while the input is read and checked.
    CompletableFuture<Void> ready =
        CompletableFuture.runAsync(
            () -> {
              try (TopicAdmin admin = new TopicAdmin(clientProperties, kafka.topics(), wait)) {
                admin.checkReachable(kafka.bootstrap);
                admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
              }
            });
    // The producer starts (and learns the tasks topic's partitions) meanwhile too; nothing is sent
    // before the input has passed its checks.
    CompletableFuture<TaskProducer> starting =
        ready.thenApply(
            v -> {
              TaskProducer p = new TaskProducer(clientProperties, kafka.topics());
              try {
                p.warmUp();
              } catch (RuntimeException e) {
                p.close();
                throw e;
              }
              return p;
            });
    Iterable<String> ids;
    try {
      ids = source();
      checkKeys(ids, options, payloadFor);
    } catch (RuntimeException | IOException e) {
      starting.thenAccept(TaskProducer::close); // bad input: nothing sent, the producer closed
      throw e;
    }
    long total = ids instanceof List<String> l ? l.size() : ItemRange.parse(range).size();
    TaskProducer started;
    try {
      started = starting.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    boolean bar = Terminal.interactive();
    ProduceRun.Result result;
    try (TaskProducer producer = started) {
      ProduceRun run = producer.startRun(job, type, labels, form);
      boolean plainItems = options.isEmpty() && payload == null;
      long i = 0;
      long nextDraw = 0;
      for (Iterator<String> it = ids.iterator(); it.hasNext() && run.failed() == 0; i++) {
        String item = it.next();
        if (plainItems) {
          run.submit(item); // checked by ItemIdInput or the range; no options, no payload
        } else {
          TaskMessage task = TaskMessage.of(job, type, item).withPayload(payloadFor.apply(item));
          run.submit(task.withOptions(expand(options, task)));
        }
        if (bar && System.nanoTime() >= nextDraw) {
          Terminal.bar(out, "enqueue", run.acknowledged(), total, run.acknowledged() / seconds(t0));
          nextDraw = System.nanoTime() + 100_000_000L;
        }
      }
      result = run.finish(Duration.ofMinutes(2));
      if (bar) {
        Terminal.bar(
            out, "enqueue", result.acknowledged(), total, result.acknowledged() / seconds(t0));
        out.println();
      }
    }
    double secs = seconds(t0);
    if (result.complete()) {
      out.printf(
          Locale.ROOT,
          "enqueued %d items to job %s in %.2f s (%s/s)%n",
          result.acknowledged(),
          job,
          secs,
          Terminal.count(Math.round(result.acknowledged() / secs)));
      return 0;
    }
    System.err.printf(
        Locale.ROOT,
        "fleet produce: partial send: %d of %d items acknowledged, %d failed (%s).%n"
            + "  %s%n"
            + "  This run cannot tell which items were acknowledged: re-running the whole input runs those again%n"
            + "  (duplicate detection across runs needs Redis idempotency, which is not built yet).%n",
        result.acknowledged(),
        total,
        total - result.acknowledged(),
        result.firstError().map(Throwable::toString).orElse("unknown cause"),
        result.manifest().isPresent()
            ? "A manifest for the " + result.acknowledged() + " acknowledged items was published."
            : "No manifest was published, so the job's expected total does not include them.");
    return EXIT_PARTIAL;
  }

  private Iterable<String> source() throws IOException {
    int given = (idsFile != null ? 1 : 0) + (range != null ? 1 : 0) + (stdin != null ? 1 : 0);
    if (given != 1) {
      throw new UsageException(
          "give exactly one source of item IDs: --ids-file FILE, --range A..B or - (stdin)");
    }
    if (stdin != null && !stdin.equals("-")) {
      throw new UsageException(
          "unexpected argument '" + stdin + "' (use - to read item IDs from stdin)");
    }
    if (range != null) {
      ItemRange r;
      try {
        r = ItemRange.parse(range);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      return r::ids;
    }
    ItemIdInput input;
    String where = idsFile != null ? idsFile.toString() : "stdin";
    if (idsFile != null && (!Files.isRegularFile(idsFile) || !Files.isReadable(idsFile))) {
      throw new UsageException(
          "cannot read --ids-file "
              + idsFile
              + ": "
              + (Files.exists(idsFile) ? "not a readable file" : "no such file"));
    }
    long limit = ItemIdInput.defaultMaxInputBytes();
    if (idsFile != null && Files.size(idsFile) > limit) {
      throw tooLarge(where, Files.size(idsFile), limit);
    }
    try (InputStream in = idsFile != null ? Files.newInputStream(idsFile) : System.in) {
      input = ItemIdInput.read(in, CodecLimits.DEFAULTS.maxItemIdBytes(), skipDuplicates, limit);
    } catch (ItemIdInput.InputTooLargeException e) {
      throw tooLarge(where, -1, limit);
    }
    if (!input.valid()) {
      StringBuilder sb =
          new StringBuilder(
              input.errorCount() + " bad item ID(s) in " + where + "; nothing was sent:");
      input.errors().forEach(e -> sb.append("\n  ").append(e));
      if (input.errorCount() > input.errors().size()) {
        sb.append("\n  ... and ")
            .append(input.errorCount() - input.errors().size())
            .append(" more");
      }
      throw new UsageException(sb.toString());
    }
    if (input.ids().isEmpty()) {
      throw new UsageException(
          "no item IDs in "
              + where
              + " (blank lines and # comments are skipped); nothing was sent");
    }
    if (input.duplicates() > 0) {
      System.err.printf(
          "fleet produce: %d duplicate item ID(s) in %s (first: '%s'); %s%n",
          input.duplicates(),
          where,
          input.firstDuplicate().orElse(""),
          skipDuplicates
              ? "each was sent once."
              : "all were sent and each copy will run (--skip-duplicates sends each once).");
    }
    return input.ids();
  }

  private TaskOptions options() {
    TaskOptions o = TaskOptions.NONE;
    try {
      if (retries != null) o = o.withRetries(retries);
      if (retryDelays != null)
        o =
            o.withRetryDelays(
                retryDelays.stream().map(d -> duration("--retry-delays", d)).toList());
      if (backoff != null) {
        String[] parts = backoff.split(":");
        if (parts.length != 2)
          throw new UsageException("--backoff is BASE:MAX, e.g. 1s:5m; got '" + backoff + "'");
        o =
            o.withBackoff(
                new Backoff(duration("--backoff", parts[0]), duration("--backoff", parts[1])));
      }
      if (jitter != null) o = o.withJitter(jitter);
      if (timeout != null) o = o.withTimeout(duration("--timeout", timeout));
      if (idempotencyKey != null) {
        validateKey("--idempotency-key", idempotencyKey); // an unknown ${variable}, a constant
        o = o.withIdempotencyKey(idempotencyKey);
      }
      if (idempotencyTtl != null)
        o = o.withIdempotencyTtl(duration("--idempotency-ttl", idempotencyTtl));
      if (cacheKey != null) {
        validateKey("--cache-key", cacheKey);
        o = o.withCacheKey(cacheKey);
      }
      if (cacheTtl != null) o = o.withCacheTtl(duration("--cache-ttl", cacheTtl));
      if (persistResult != null) o = o.withPersistResult(persistResult);
      if (tags != null) o = o.withTags(tags);
      TaskMessage.of(job, type, "check");
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    return o;
  }

  private static void validateKey(String option, String template) {
    try {
      KeyTemplate.validate(template);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }

  /**
   * Every ID is checked before anything is sent, so one run reads at most what fits in memory;
   * nothing was sent when this is thrown.
   */
  private static UsageException tooLarge(String where, long size, long limit) {
    return new UsageException(
        where
            + (size >= 0 ? " is " + (size >> 20) + " MiB" : " is larger than that")
            + "; one fleet produce run reads at most "
            + (limit >> 20)
            + " MiB (a tenth of its heap, at most 1 GiB) because it checks every ID before"
            + " sending any. Nothing was sent. Split the input (e.g. split -l 5000000 ids.txt"
            + " part-) and produce each part with the same --job: each run adds its count to the"
            + " job's total. Or give the JVM more heap (FLEET_JAVA_OPTS=-Xmx8g).");
  }

  /**
   * Fills the key templates as a worker fills fleet.yaml's ({@link KeyTemplate}): each value's
   * {@code :} and {@code \} escaped, so that no item ID can make another item's key (an ID "${job}"
   * filled by plain replacement made "J:J", the key of item "J" in job "J", and one of the two was
   * DEDUPLICATED without running).
   */
  private TaskOptions expand(TaskOptions o, TaskMessage task) {
    if (idempotencyKey != null && idempotencyKey.contains("${"))
      o = o.withIdempotencyKey(KeyTemplate.expand(idempotencyKey, task));
    if (cacheKey != null && cacheKey.contains("${"))
      o = o.withCacheKey(KeyTemplate.expand(cacheKey, task));
    return o;
  }

  /**
   * Fills the key templates of every item before anything is sent: a key a worker could not read
   * (over {@link TaskOptions#MAX_KEY} characters, from a long ID) would make its item POISON.
   */
  private void checkKeys(
      Iterable<String> ids, TaskOptions options, Function<String, JsonNode> payloadFor) {
    boolean filled =
        (idempotencyKey != null && idempotencyKey.contains("${"))
            || (cacheKey != null && cacheKey.contains("${"));
    if (!filled) return;
    boolean hashed =
        (idempotencyKey != null && idempotencyKey.contains("payloadHash"))
            || (cacheKey != null && cacheKey.contains("payloadHash"));
    for (String item : ids) {
      TaskMessage task = TaskMessage.of(job, type, item);
      if (hashed) task = task.withPayload(payloadFor.apply(item)); // else its key does not need it
      try {
        expand(options, task);
      } catch (IllegalArgumentException e) {
        throw new UsageException(
            "item '"
                + Terminal.safe(item.length() > 80 ? item.substring(0, 80) + "…" : item)
                + "': "
                + e.getMessage()
                + " once filled in; a worker reads no longer keys. Nothing was sent.");
      }
    }
  }

  private Function<String, JsonNode> payloadTemplate() {
    if (payload == null) {
      return item -> NullNode.getInstance();
    }
    JsonNode template;
    try {
      template = JSON.readTree(payload);
    } catch (IOException e) {
      throw new UsageException("--payload is not valid JSON: " + e.getMessage());
    }
    if (!payload.contains("${")) {
      return item -> template;
    }
    // Placeholders are replaced inside string values, so item IDs never break the JSON.
    return item -> fillPayload(template, Map.of("item", item, "job", job, "type", type));
  }

  private static Duration duration(String option, String text) {
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException(option + ": " + e.getMessage());
    }
  }

  private static double seconds(long t0) {
    return Math.max(1e-3, (System.nanoTime() - t0) / 1e9);
  }

  static JsonNode fillPayload(JsonNode node, Map<String, String> values) {
    if (node.isTextual()) {
      String s = node.textValue();
      for (var e : values.entrySet()) s = s.replace("${" + e.getKey() + "}", e.getValue());
      return TextNode.valueOf(s);
    }
    if (node.isObject()) {
      ObjectNode copy = JSON.createObjectNode();
      node.properties().forEach(e -> copy.set(e.getKey(), fillPayload(e.getValue(), values)));
      return copy;
    }
    if (node.isArray()) {
      List<JsonNode> items = new ArrayList<>();
      node.forEach(n -> items.add(fillPayload(n, values)));
      return JSON.createArrayNode().addAll(items);
    }
    return node;
  }
}
