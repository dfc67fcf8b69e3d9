package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.schemas.DecodeError.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  private final MessageCodec codec = new MessageCodec();
  private final HeaderLookup headers =
      HeaderLookup.of(Map.of(FleetHeaders.JOB, "job-7", FleetHeaders.TYPE, "sim"));

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * What the codec writes, it reads back: a cut stack trace ended one character over the decoder's
   * limit (8,193 of 8,192) and a long error class went over its 256, so the recorder refused the
   * event and lost the failure row; astral characters keep their 4 bytes instead of 12.
   */
  /**
   * Known gap of the fourth review: a failure event's job and type names were not checked by the
   * name rule, as a task's are. Any Kafka client writes the failure topic, and the names reach the
   * ledger, the console and alert text: a bidi override made an alert read as another job's.
   */
  @Test
  void failureEventsWhoseNamesBreakTheNameRuleAreRefused() {
    byte[] ok =
        codec.encodeFailure(
            FailureEvent.failed(
                TaskMessage.of("videos", "t", "i"),
                1,
                false,
                "c",
                "m",
                Instant.now(),
                Optional.empty()));
    assertThat(codec.decodeFailure(ok).asOptional()).isPresent();
    for (String bad : List.of("vid\u202Eeos", "a\nb", "x\u0007")) {
      byte[] v =
          new String(ok, StandardCharsets.UTF_8)
              .replace("\"job\":\"videos\"", "\"job\":\"" + bad + "\"")
              .getBytes(StandardCharsets.UTF_8);
      assertThat(codec.decodeFailure(v).asOptional()).as(bad).isEmpty();
      byte[] t =
          new String(ok, StandardCharsets.UTF_8)
              .replace("\"type\":\"t\"", "\"type\":\"" + bad + "\"")
              .getBytes(StandardCharsets.UTF_8);
      assertThat(codec.decodeFailure(t).asOptional()).as(bad).isEmpty();
    }
  }

  @Test
  void failureEventsWithOverlongTextDecodeAfterEncodingAndEmojiKeepTheirSize() {
    TaskMessage t = TaskMessage.of("j", "t", "i");
    FailureEvent failed =
        FailureEvent.failed(t, 1, false, "x".repeat(300), "m", Instant.now(), Optional.empty());
    // As the event's constructor may leave it (redaction can lengthen a trace that was cut).
    FailureEvent f =
        new FailureEvent(
            failed.outcome(),
            failed.job(),
            failed.type(),
            failed.item(),
            1,
            false,
            failed.errorClass(),
            "m",
            failed.failedAt(),
            Optional.empty(),
            failed.payload(),
            Optional.empty(),
            Optional.of("a" + "\uD83D\uDE00".repeat(6000)));
    FailureEvent back = codec.decodeFailure(codec.encodeFailure(f)).orThrow();
    assertThat(back.errorClass()).hasSize(256).endsWith("…");
    assertThat(back.stackTrace().orElseThrow())
        .hasSizeLessThanOrEqualTo(FailureEvent.MAX_STACK_CHARS)
        .endsWith("\uDE00…"); // never half of a surrogate pair
    assertThat(failed.withStackTrace(f.stackTrace()).stackTrace().orElseThrow())
        .hasSizeLessThanOrEqualTo(FailureEvent.MAX_STACK_CHARS)
        .endsWith("\uDE00…");
    TaskMessage emoji =
        TaskMessage.of("j", "t", "i")
            .withPayload(new ObjectMapper().valueToTree(Map.of("s", "\uD83D\uDE00".repeat(1000))));
    assertThat(codec.encodeTask(emoji).length).isLessThan(4000 + 200);
  }

  @Test
  void plainValueIsAnItemIdWithJobAndTypeFromHeaders() {
    TaskMessage t = codec.decodeTask(utf8("  video-123 \n"), headers).orThrow();
    assertThat(t).isEqualTo(TaskMessage.of("job-7", "sim", "video-123"));
  }

  @Test
  void plainIdsDecodeAlikeOnAndOffTheAsciiShortcut() {
    assertThat(item("a b")).isEqualTo("a b");
    assertThat(item("x".repeat(1024))).hasSize(1024);
    assertThat(item("\tvideo-9\t")).isEqualTo("video-9");
    assertThat(item("café-1")).isEqualTo("café-1");
    assertThat(codec.decodeTask(utf8("a\u007fb"), headers).failure().orElseThrow().cause())
        .contains("U+007F");
    // A bidi override reads "a" then "b" reversed in a terminal: refused, as in names.
    assertThat(codec.decodeTask(utf8("a\u202eb"), headers).failure().orElseThrow().cause())
        .contains("control character U+202E");
  }

  /**
   * JSON escapes can make a string UTF-8 cannot encode (an unpaired surrogate). Two items differing
   * only in one ("a\\uD800", "a\\uD801") became the same Redis key ("a?"), so the second was
   * DEDUPLICATED without ever running; the same held for job names. Now each is POISON, naming it.
   */
  @Test
  void itemIdsAndNamesWithUnpairedSurrogatesArePoisonNamingThem() {
    for (String[] c :
        new String[][] {
          {"{\"v\":1,\"job\":\"j\",\"type\":\"t\",\"item\":\"a\\ud800\"}", "item"},
          {"{\"v\":1,\"job\":\"j\",\"type\":\"t\",\"item\":\"a\\udc00b\"}", "item"},
          {"{\"v\":1,\"job\":\"j\\ud801\",\"type\":\"t\",\"item\":\"a\"}", "job"},
        }) {
      DecodeError e = codec.decodeTask(utf8(c[0]), HeaderLookup.NONE).failure().orElseThrow();
      assertThat(e.field()).as(c[0]).isEqualTo(c[1]);
      assertThat(e.cause()).as(c[0]).contains("unpaired surrogate U+D");
    }
    // A pair (an emoji) is text like any other.
    String ok = "{\"v\":1,\"job\":\"j\",\"type\":\"t\",\"item\":\"a\\ud83d\\ude00\"}";
    assertThat(codec.decodeTask(utf8(ok), HeaderLookup.NONE).orThrow().item())
        .isEqualTo("a\uD83D\uDE00");
  }

  @Test
  void jobAndTypeNamesWithControlCharactersArePoisonNamingTheField() {
    HeaderLookup bad =
        HeaderLookup.of(Map.of(FleetHeaders.JOB, "x\u001b[2J", FleetHeaders.TYPE, "t"));
    DecodeError e = codec.decodeTask(utf8("item-1"), bad).failure().orElseThrow();
    assertThat(e.field()).isEqualTo("header fleet-job");
    assertThat(e.cause()).contains("control character U+001B at index 1");
    DecodeError j =
        codec
            .decodeTask(
                utf8("{\"v\":1,\"job\":\"j\",\"type\":\"t\\u0007\",\"item\":\"i\"}"), headers)
            .failure()
            .orElseThrow();
    assertThat(j.field()).isEqualTo("type");
  }

  @Test
  void poisonKeepsABoundedPrefixWithTheSizeAndHashOfTheWhole() {
    byte[] big = new byte[3 << 20];
    java.util.Arrays.fill(big, (byte) 'a');
    FailureEvent f =
        FailureEvent.poison(
            big,
            new DecodeError(DecodeError.Kind.OVERSIZE, "$", "too big"),
            java.util.Optional.empty(),
            java.util.Optional.empty(),
            java.time.Instant.EPOCH,
            java.util.Optional.empty());
    byte[] encoded = codec.encodeFailure(f);
    assertThat(encoded.length).isLessThan(100_000);
    FailureEvent back = codec.decodeFailure(encoded).orThrow();
    assertThat(back.poison().get().raw()).hasSize(FailureEvent.MAX_RAW_BYTES);
    assertThat(back.poison().get().size()).isEqualTo(3 << 20);
    assertThat(back.poison().get().truncated()).isTrue();
    assertThat(back.poison().get().sha256()).isEqualTo(f.poison().get().sha256()).hasSize(64);
  }

  private String item(String value) {
    return codec.decodeTask(utf8(value), headers).orThrow().item();
  }

  @Test
  void jsonStringAndNumberValuesAreItemIdsToo() {
    assertThat(codec.decodeTask(utf8("42"), headers).orThrow().item()).isEqualTo("42");
    assertThat(codec.decodeTask(utf8("[1]"), headers).orThrow().item()).isEqualTo("[1]");
  }

  @Test
  void compactItemsCarryJobTypeAndIdInTheValueAndIgnoreHeaders() {
    byte[] prefix = MessageCodec.compactPrefix("videos-2026", "thumbnail");
    byte[] v = MessageCodec.compact(prefix, "video-123");
    assertThat(v).isEqualTo(utf8("\u001evideos-2026\u001fthumbnail\u001fvideo-123"));
    assertThat(codec.decodeTask(v, headers).orThrow())
        .isEqualTo(TaskMessage.of("videos-2026", "thumbnail", "video-123"));
    assertThat(codec.decodeTask(v, HeaderLookup.NONE).orThrow().item()).isEqualTo("video-123");
    byte[] utf = MessageCodec.compact(MessageCodec.compactPrefix("jöb", "týpe"), "café 1");
    assertThat(codec.decodeTask(utf, HeaderLookup.NONE).orThrow())
        .isEqualTo(TaskMessage.of("jöb", "týpe", "café 1"));
    assertThat(MessageCodec.compactPart(v, 0)).contains("videos-2026");
    assertThat(MessageCodec.compactPart(v, 1)).contains("thumbnail");
    assertThat(MessageCodec.compactPart(utf8("item-1"), 0)).isEmpty();
  }

  @Test
  void everyBrokenCompactItemIsPoisonWithACause() {
    Map<String, String> cases =
        Map.of(
            "\u001e",
            "needs job U+001F type U+001F item ID",
            "\u001ejob-only",
            "needs job U+001F type U+001F item ID",
            "\u001ejob\u001ftype-only",
            "needs job U+001F type U+001F item ID",
            "\u001e\u001ftype\u001fitem",
            "job name must be 1 to",
            "\u001ejob\u001f\u001fitem",
            "type name must be 1 to",
            "\u001ejob\u001ftype\u001f",
            "the item ID is empty",
            "\u001ejob\u001ftype\u001fa\u001fb",
            "control character U+001F",
            "\u001ej\u202eob\u001ftype\u001fitem",
            "control character U+202E",
            "\u001ejob\u001ftype\u001f" + "x".repeat(2000),
            "the limit is");
    cases.forEach(
        (value, cause) ->
            assertThat(codec.decodeTask(utf8(value), headers).failure())
                .as("%s", value)
                .hasValueSatisfying(e -> assertThat(e.cause()).contains(cause)));
    byte[] notUtf8 = {0x1e, 'j', 0x1f, 't', 0x1f, (byte) 0xc3, (byte) 0x28};
    assertThat(codec.decodeTask(notUtf8, headers).failure()).isPresent();
  }

  @Test
  void aCompactPrefixRefusesNamesThatCouldNotBeRead() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> MessageCodec.compactPrefix("a\u001fb", "t"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("control character U+001F");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MessageCodec.compactPrefix("j", ""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void plainItemIdWithoutJobHeaderNamesTheHeader() {
    DecodeError e =
        codec
            .decodeTask(utf8("x"), HeaderLookup.of(Map.of(FleetHeaders.TYPE, "sim")))
            .failure()
            .orElseThrow();
    assertThat(e.kind()).isEqualTo(Kind.MISSING_FIELD);
    assertThat(e.field()).isEqualTo("header fleet-job");
  }

  @Test
  void blankValueIsAnEmptyItemId() {
    DecodeError e = codec.decodeTask(utf8("  \n"), headers).failure().orElseThrow();
    assertThat(e.kind()).isEqualTo(Kind.INVALID_VALUE);
    assertThat(e.cause()).contains("empty");
  }

  @Test
  void tombstoneIsRejectedNotThrown() {
    assertThat(codec.decodeTask(null, headers).failure().orElseThrow().cause())
        .contains("tombstone");
  }

  @Test
  void oversizeValueIsRejectedWithItsSize() {
    MessageCodec small = new MessageCodec(new CodecLimits(100, 50));
    DecodeError e = small.decodeTask(new byte[101], headers).failure().orElseThrow();
    assertThat(e.kind()).isEqualTo(Kind.OVERSIZE);
    assertThat(e.cause()).contains("101 bytes", "limit is 100");
  }

  @Test
  void defaultLimitIsOneMebibyte() {
    byte[] big = new byte[(1 << 20) + 1];
    java.util.Arrays.fill(big, (byte) 'a');
    assertThat(codec.decodeTask(big, headers).failure().orElseThrow().kind())
        .isEqualTo(Kind.OVERSIZE);
  }

  @Test
  void overlongItemIdIsRejected() {
    DecodeError e = codec.decodeTask(utf8("x".repeat(1025)), headers).failure().orElseThrow();
    assertThat(e.cause()).contains("1025 bytes", "limit is 1024");
  }

  @Test
  void invalidUtf8PlainIdIsRejected() {
    DecodeError e =
        codec.decodeTask(new byte[] {'a', (byte) 0xff, 'b'}, headers).failure().orElseThrow();
    assertThat(e.kind()).isEqualTo(Kind.INVALID_UTF8);
  }

  @Test
  void controlCharacterInItemIdIsRejected() {
    DecodeError e = codec.decodeTask(utf8("a\u0000b"), headers).failure().orElseThrow();
    assertThat(e.cause()).contains("U+0000");
  }

  @Test
  void duplicateKeysAreMalformed() {
    DecodeError e =
        codec
            .decodeTask(
                utf8("{\"v\":1,\"job\":\"a\",\"job\":\"b\",\"type\":\"t\",\"item\":\"1\"}"),
                headers)
            .failure()
            .orElseThrow();
    assertThat(e.kind()).isEqualTo(Kind.MALFORMED_JSON);
  }

  @Test
  void backoffWithMaxBelowBaseNamesTheField() {
    DecodeError e =
        codec
            .decodeTask(
                utf8(
                    "{\"v\":1,\"job\":\"a\",\"type\":\"t\",\"item\":\"1\",\"options\":{\"backoff\":{\"base\":\"10s\",\"max\":\"1s\"}}}"),
                headers)
            .failure()
            .orElseThrow();
    assertThat(e.field()).isEqualTo("options.backoff.max");
  }

  @Test
  void taskWithEveryOptionRoundTrips() throws Exception {
    TaskOptions o =
        TaskOptions.NONE
            .withRetries(5)
            .withRetryDelays(List.of(Duration.ofSeconds(5), Duration.ofMillis(250)))
            .withBackoff(new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5)))
            .withJitter(0.2)
            .withTimeout(Duration.ofSeconds(30))
            .withIdempotencyKey("k")
            .withIdempotencyTtl(Duration.ofDays(7))
            .withCacheKey("c")
            .withCacheTtl(Duration.ofDays(1))
            .withPersistResult(true)
            .withTags(List.of("video-ingest"));
    TaskMessage t =
        new TaskMessage(
            "j",
            "t",
            "i",
            3,
            Optional.of(Instant.parse("2026-11-21T10:00:00.123Z")),
            new ObjectMapper().readTree("{\"a\":[1,2]}"),
            o);
    assertThat(codec.decodeTask(codec.encodeTask(t), HeaderLookup.NONE).orThrow()).isEqualTo(t);
  }

  @Test
  void statsRoundTrip() {
    StatsDelta s =
        new StatsDelta(
            "j",
            "t",
            Instant.parse("2026-11-21T10:05:00Z"),
            new OutcomeCounts(1, 2, 3, 4, 5),
            6,
            700,
            LatencyHistogram.empty().plus(3).plus(70_000));
    assertThat(codec.decodeStats(codec.encodeStats(s)).orThrow()).isEqualTo(s);
  }

  @Test
  void poisonEventKeepsRawBytesExactly() {
    byte[] raw = {0, (byte) 0xff, '{', 'x'};
    FailureEvent f =
        FailureEvent.poison(
            raw,
            new DecodeError(Kind.INVALID_UTF8, "$", "bad"),
            Optional.of("j"),
            Optional.empty(),
            Instant.parse("2026-11-21T10:05:00Z"),
            Optional.of(new SourceRecord("fleet.tasks", 2, 9)));
    FailureEvent back = codec.decodeFailure(codec.encodeFailure(f)).orThrow();
    assertThat(back.poison().orElseThrow().raw()).containsExactly(raw);
    assertThat(back).isEqualTo(f);
    assertThat(back.errorClass()).isEqualTo("decode.invalid_utf8");
  }

  @Test
  void jobEventsRoundTrip() {
    JobEvent m =
        new JobManifest(
            "j",
            "t",
            20_000,
            "run-1",
            Instant.parse("2026-11-21T10:05:00Z"),
            Map.of("codeVersion", "1.2"));
    JobEvent c =
        new JobCompleted(
            "j",
            "t",
            3,
            new OutcomeCounts(1, 1, 1, 0, 0),
            2,
            Instant.parse("2026-11-21T10:06:00Z"));
    assertThat(codec.decodeJobEvent(codec.encodeJobEvent(m)).orThrow()).isEqualTo(m);
    assertThat(codec.decodeJobEvent(codec.encodeJobEvent(c)).orThrow()).isEqualTo(c);
  }

  /**
   * A stats delta counts at most {@link OutcomeCounts#MAX_DELTA} of anything (a minute of one
   * worker's commits); the recorder's own completion events carry the ledger's totals, which may be
   * larger, and read back as they were written.
   */
  @Test
  void statsCountsAreCappedButCompletionTotalsAreNot() {
    StatsDelta ok =
        new StatsDelta(
            "j",
            "t",
            Instant.parse("2026-11-21T10:05:00Z"),
            new OutcomeCounts(OutcomeCounts.MAX_DELTA, 0, 0, 0, 0),
            OutcomeCounts.MAX_DELTA,
            0,
            LatencyHistogram.empty());
    assertThat(codec.decodeStats(codec.encodeStats(ok)).orThrow()).isEqualTo(ok);
    String over =
        new String(codec.encodeStats(ok), StandardCharsets.UTF_8)
            .replace(
                "\"succeeded\":" + OutcomeCounts.MAX_DELTA,
                "\"succeeded\":" + (OutcomeCounts.MAX_DELTA + 1));
    assertThat(codec.decodeStats(utf8(over)).failure().orElseThrow().field())
        .isEqualTo("counts.succeeded");
    JobEvent c =
        new JobCompleted(
            "j",
            "t",
            Long.MAX_VALUE,
            new OutcomeCounts(Long.MAX_VALUE, 0, 1, 0, 0),
            0,
            Instant.parse("2026-11-21T10:06:00Z"));
    assertThat(codec.decodeJobEvent(codec.encodeJobEvent(c)).orThrow()).isEqualTo(c);
  }

  /**
   * A header name is taken exactly (a compact value's and a JSON task's are, and so is the
   * manifest's), and one holding U+FFFD — what a lenient decoder leaves of bytes that were not
   * UTF-8 — is refused, since 'caf\xE9' and 'caf\xE8' would be one job.
   */
  @Test
  void headerNamesAreExactAndNeverHoldTheReplacementCharacter() {
    var spaced =
        codec.decodeTask(
            utf8("i-1"), HeaderLookup.of(Map.of(FleetHeaders.JOB, " J ", FleetHeaders.TYPE, "t")));
    assertThat(spaced.orThrow().job()).isEqualTo(" J ");
    var replaced =
        codec.decodeTask(
            utf8("i-1"),
            HeaderLookup.of(Map.of(FleetHeaders.JOB, "caf\uFFFD", FleetHeaders.TYPE, "t")));
    assertThat(replaced.failure().orElseThrow().cause()).contains("U+FFFD");
    assertThat(Names.problem("job", "caf\uFFFD")).isPresent();
  }

  /** The job a POISON record names in its JSON, read as far as it takes to find it. */
  @Test
  void jsonTextFindsATopLevelStringBeforeAnyError() {
    assertThat(MessageCodec.jsonText(utf8("{\"v\":2,\"job\":\"j\"}"), "job")).contains("j");
    assertThat(MessageCodec.jsonText(utf8("{\"x\":{\"job\":\"no\"},\"job\":\"j\",oops"), "job"))
        .contains("j");
    assertThat(MessageCodec.jsonText(utf8("\n {\"job\":\"j\",\"v\":2}"), "job")).contains("j");
    assertThat(MessageCodec.jsonText(utf8("{\"job\":7}"), "job")).isEmpty();
    assertThat(MessageCodec.jsonText(utf8("{oops,\"job\":\"j\"}"), "job")).isEmpty();
    assertThat(MessageCodec.jsonText(utf8("[\"job\"]"), "job")).isEmpty();
    assertThat(MessageCodec.jsonText(null, "job")).isEmpty();
  }

  /**
   * Bytes that are not UTF-8 in the field's own text: the JSON parser reads an overlong encoding
   * ({@code C0 A9}) as ')' and a sequence past U+10FFFF as surrogates, so a record the strict check
   * refused was counted under a job it never named ("c)"). Such a field is no name at all; bytes
   * that are not UTF-8 elsewhere in the record do not hide a field that is.
   */
  @Test
  void jsonTextReadsOnlyAFieldWhoseOwnBytesAreUtf8() {
    byte[] overlong = bytes("{\"job\":\"c", 0xC0, 0xA9, "\"}");
    byte[] tooHigh = bytes("{\"job\":\"c", 0xF5, 0x80, 0x80, 0x80, "\"}");
    byte[] badPayload = bytes("{\"job\":\"j\",\"payload\":\"p", 0xC0, 0xA9, "\"}");
    byte[] overlongName = bytes("{\"", 0xC1, 0xAA, "ob\":\"victim\"}"); // 'j' as C1 AA
    assertThat(MessageCodec.jsonText(overlong, "job")).isEmpty();
    assertThat(MessageCodec.jsonText(tooHigh, "job")).isEmpty();
    assertThat(MessageCodec.jsonText(overlongName, "job")).isEmpty();
    assertThat(MessageCodec.jsonText(badPayload, "job")).contains("j");
    assertThat(MessageCodec.jsonText(utf8("{\"job\":\"caf\u00e9 \\u00e9\"}"), "job"))
        .contains("caf\u00e9 \u00e9");
  }

  /** Text and single bytes, in order. */
  private static byte[] bytes(Object... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String t) out.writeBytes(utf8(t));
      else out.write((Integer) p);
    }
    return out.toByteArray();
  }

  @Test
  void nonObjectStatsIsWrongType() {
    assertThat(codec.decodeStats(utf8("\"hello\"")).failure().orElseThrow().kind())
        .isEqualTo(Kind.WRONG_TYPE);
  }

  @Test
  void garbageNeverThrows() {
    java.util.Random r = new java.util.Random(42);
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[r.nextInt(40)];
      r.nextBytes(b);
      if (b.length > 0 && r.nextBoolean()) b[0] = '{';
      codec.decodeTask(b, headers);
      codec.decodeStats(b);
      codec.decodeFailure(b);
      codec.decodeJobEvent(b);
    }
  }

  @Test
  void firstAttemptsWithQuotesAndUnicodeRoundTrip() {
    TaskMessage t = TaskMessage.of("job \"q\"", "t\\x", "item\u2603\u0001é");
    byte[] bytes = codec.encodeTask(t);
    assertThat(new String(bytes, StandardCharsets.UTF_8))
        .startsWith("{\"v\":1,\"job\":\"job \\\"q\\\"\"");
    assertThat(
            new MessageCodec(new CodecLimits(1 << 20, 1024))
                .decodeTask(bytes, HeaderLookup.NONE)
                .failure())
        .isPresent();
    TaskMessage ok = TaskMessage.of("job \"q\"", "t\\x", "item\u2603é");
    assertThat(codec.decodeTask(codec.encodeTask(ok), HeaderLookup.NONE).orThrow()).isEqualTo(ok);
  }

  /**
   * A tombstone (or an empty value) on the tasks topic is POISON with no bytes: the codec wrote its
   * failure event with {@code "raw":""} and then refused to read it (an empty string), so the
   * recorder skipped it and the POISON row was lost.
   */
  @Test
  void aPoisonEventOfAnEmptyRecordReadsBack() {
    FailureEvent e =
        FailureEvent.poison(
            new byte[0],
            new DecodeError(DecodeError.Kind.MALFORMED_JSON, "$", "empty record"),
            Optional.empty(),
            Optional.empty(),
            java.time.Instant.parse("2026-11-30T12:00:00Z"),
            Optional.of(new SourceRecord("p.tasks", 3, 17)));
    byte[] bytes = codec.encodeFailure(e);
    FailureEvent back = codec.decodeFailure(bytes).orThrow();
    assertThat(back.poison()).isPresent();
    assertThat(back.poison().get().raw()).isEmpty();
  }
}
