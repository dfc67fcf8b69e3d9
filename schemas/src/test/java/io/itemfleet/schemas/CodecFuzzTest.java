package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Hostile bytes against every decoder a fleet process runs on what it reads from Kafka: valid
 * messages of each kind, mutated (bytes flipped, inserted, cut, repeated; hostile fragments such as
 * NUL escapes, lone surrogates, huge numbers, deep nesting spliced in), and random header values.
 * Whatever comes in, a decoder returns a value or a {@link DecodeError}, never throws; a task it
 * accepts obeys the name and item rules, and whatever it accepts encodes and decodes back to
 * itself. Seeded, so a failure names the case that reproduces it.
 */
class CodecFuzzTest {
  private static final long SEED = 20261130L;
  private static final int CASES = 20_000;

  private final MessageCodec codec = new MessageCodec();
  private final ObjectMapper json = new ObjectMapper();

  private static final String[] FRAGMENTS = {
    "\\u0000",
    "\\ud800",
    "\\udc00x",
    "\\u202e",
    "\u0000",
    "\u001e",
    "\u001f",
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-0",
    "1e999999",
    "-9223372036854775809",
    "99999999999999999999999999999",
    "0.0000000000000000000001",
    "\"v\":1",
    "\"v\":2",
    "\"job\":\"\"",
    "\"item\":\"" + "x".repeat(2000) + "\"",
    "\"notBefore\":\"+1000000000-01-01T00:00:00Z\"",
    "\"minute\":\"2026-11-30T00:00:30Z\"",
    "\"tags\":[\"a\",\"a\"]",
    "[".repeat(5000),
    "{\"a\":".repeat(2000),
    "\uD83D\uDE00",
    "\u00ff",
  };

  @Test
  void taskDecodingNeverThrowsAndWhatItAcceptsFollowsTheRulesAndRoundTrips() throws Exception {
    List<byte[]> seeds =
        List.of(
            codec.encodeTask(TaskMessage.of("job-1", "sim", "item-1")),
            codec.encodeTask(
                TaskMessage.of("job-1", "sim", "item-1")
                    .withPayload(json.readTree("{\"n\":[1,2.5,\"s\",null,{\"d\":true}]}"))),
            utf8(
                "{\"v\":1,\"job\":\"j\",\"type\":\"t\",\"item\":\"i\",\"attempt\":2,"
                    + "\"notBefore\":\"2026-11-30T00:00:00Z\",\"options\":{\"idempotencyKey\":"
                    + "\"k\",\"tags\":[\"api\"],\"timeout\":\"5s\",\"retries\":3}}"),
            MessageCodec.compact(MessageCodec.compactPrefix("job-1", "sim"), "item-7"),
            utf8("item-plain-42"),
            utf8("  spaced id \u00e9  "));
    Random rnd = new Random(SEED);
    int accepted = 0;
    for (int i = 0; i < CASES; i++) {
      byte[] in = mutate(rnd, seeds.get(rnd.nextInt(seeds.size())));
      HeaderLookup headers = randomHeaders(rnd);
      Decoded<TaskMessage> d = decode(i, in, v -> codec.decodeTask(v, headers));
      if (d instanceof Decoded.Ok<TaskMessage> ok) {
        accepted++;
        TaskMessage t = ok.value();
        for (String[] f : new String[][] {{"job", t.job()}, {"type", t.type()}}) {
          assertThat(Names.problem(f[0], f[1])).as("case %d: %s of %s", i, f[0], hex(in)).isEmpty();
        }
        // An item ID follows the name rules but for its length (up to 1 KiB, checked below).
        assertThat(Names.unpairedSurrogate(t.item())).as("case %d: item", i).isNegative();
        assertThat(t.item().chars().noneMatch(c -> Names.isControl((char) c)))
            .as("case %d: item of %s", i, hex(in))
            .isTrue();
        assertThat(t.item().getBytes(StandardCharsets.UTF_8).length)
            .as("case %d", i)
            .isLessThanOrEqualTo(codec.limits().maxItemIdBytes());
        Decoded<TaskMessage> again =
            decode(i, codec.encodeTask(t), v -> codec.decodeTask(v, HeaderLookup.NONE));
        assertThat(again.asOptional()).as("case %d round trip of %s", i, hex(in)).contains(t);
      }
    }
    // Not all mutants are refused: some stay valid, so the round trip is exercised too.
    assertThat(accepted).isBetween(CASES / 50, CASES - CASES / 50);
  }

  @Test
  void failureStatsAndJobEventDecodingNeverThrowAndWhatTheyAcceptRoundTrips() {
    TaskMessage t = TaskMessage.of("job-1", "sim", "item-1");
    Instant at = Instant.parse("2026-11-30T01:02:03.456Z");
    FailureEvent failed =
        FailureEvent.failed(
            t,
            3,
            false,
            "java.io.IOException",
            "boom \u00e9 \uD83D\uDE00",
            at,
            Optional.of(new SourceRecord("p.tasks", 2, 41)));
    byte[] failure = codec.encodeFailure(failed.withStackTrace(Optional.of("at x\n\tat y")));
    byte[] stats =
        codec.encodeStats(
            new StatsDelta(
                "job-1",
                "sim",
                Instant.parse("2026-11-30T01:02:00Z"),
                new OutcomeCounts(5, 1, 2, 0, 1),
                3,
                1234,
                LatencyHistogram.empty().plus(12).plus(3_000)));
    List<byte[]> jobEvents =
        List.of(
            codec.encodeJobEvent(
                new JobManifest("job-1", "sim", 1000, "run-1", at, Map.of("team", "aé"))),
            codec.encodeJobEvent(
                new JobCompleted("job-1", "sim", 1000, new OutcomeCounts(990, 0, 9, 0, 1), 4, at)),
            codec.encodeJobEvent(new ItemResolved("job-1", "sim", "item-9", at)));
    Random rnd = new Random(SEED + 1);
    for (int i = 0; i < CASES; i++) {
      int kind = rnd.nextInt(3);
      switch (kind) {
        case 0 -> roundTrips(i, mutate(rnd, failure), codec::decodeFailure, codec::encodeFailure);
        case 1 -> roundTrips(i, mutate(rnd, stats), codec::decodeStats, codec::encodeStats);
        default ->
            roundTrips(
                i,
                mutate(rnd, jobEvents.get(rnd.nextInt(jobEvents.size()))),
                codec::decodeJobEvent,
                codec::encodeJobEvent);
      }
    }
  }

  private <T> void roundTrips(
      int i, byte[] in, Function<byte[], Decoded<T>> decoder, Function<T, byte[]> encoder) {
    Decoded<T> d = decode(i, in, decoder);
    if (d instanceof Decoded.Ok<T> ok) {
      byte[] out;
      try {
        out = encoder.apply(ok.value());
      } catch (RuntimeException e) {
        throw new AssertionError("case " + i + ": accepted but cannot encode " + hex(in), e);
      }
      assertThat(decode(i, out, decoder).asOptional())
          .as("case %d round trip of %s", i, hex(in))
          .contains(ok.value());
    }
  }

  private static <T> Decoded<T> decode(int i, byte[] in, Function<byte[], Decoded<T>> decoder) {
    try {
      Decoded<T> d = decoder.apply(in);
      assertThat(d).as("case %d", i).isNotNull();
      return d;
    } catch (RuntimeException | StackOverflowError e) {
      return fail("case " + i + ": the decoder threw on " + hex(in), e);
    }
  }

  /** One to three mutations of {@code seed}. */
  private static byte[] mutate(Random rnd, byte[] seed) {
    byte[] b = seed.clone();
    int n = 1 + rnd.nextInt(3);
    for (int k = 0; k < n; k++) {
      int at = b.length == 0 ? 0 : rnd.nextInt(b.length + 1);
      switch (rnd.nextInt(7)) {
        case 0 -> { // flip a byte
          if (b.length > 0) b[Math.min(at, b.length - 1)] ^= (byte) (1 << rnd.nextInt(8));
        }
        case 1 -> b = splice(b, at, at, new byte[] {(byte) rnd.nextInt(256)});
        case 2 -> b = splice(b, at, Math.min(b.length, at + 1 + rnd.nextInt(8)), new byte[0]);
        case 3 -> b = java.util.Arrays.copyOf(b, at); // cut
        case 4 -> { // repeat a span
          int to = Math.min(b.length, at + 1 + rnd.nextInt(16));
          b = splice(b, at, at, java.util.Arrays.copyOfRange(b, at, to));
        }
        default -> b = splice(b, at, at, utf8(FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]));
      }
    }
    return b;
  }

  private static byte[] splice(byte[] b, int from, int to, byte[] with) {
    byte[] out = new byte[b.length - (to - from) + with.length];
    System.arraycopy(b, 0, out, 0, from);
    System.arraycopy(with, 0, out, from, with.length);
    System.arraycopy(b, to, out, from + with.length, b.length - to);
    return out;
  }

  private static HeaderLookup randomHeaders(Random rnd) {
    String[] values = {
      "job-x",
      "",
      " ",
      "a\u0000b",
      "a\ud800",
      "\u202eevil",
      "x".repeat(300),
      "t\u00e9",
      "\uD83D\uDE00"
    };
    String job = rnd.nextInt(4) == 0 ? null : values[rnd.nextInt(values.length)];
    String type = rnd.nextInt(4) == 0 ? null : values[rnd.nextInt(values.length)];
    Map<String, String> h = new java.util.HashMap<>();
    if (job != null) h.put(FleetHeaders.JOB, job);
    if (type != null) h.put(FleetHeaders.TYPE, type);
    return HeaderLookup.of(h);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b, 0, Math.min(b.length, 400))
        + (b.length > 400 ? "… (" + b.length + " bytes)" : "");
  }
}
