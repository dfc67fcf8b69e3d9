package io.itemfleet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Holds the codec against the JSON Schemas and the shared fixture files in {@code schemas/json}:
 * every valid fixture passes the schema, decodes, and survives an encode/decode round trip; every
 * invalid fixture is rejected by the codec with the expected kind and field, and by the schema
 * where a schema can express the rule.
 */
class FixtureFilesTest {
  private static final Path JSON_DIR = Path.of("json");
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final MessageCodec CODEC = new MessageCodec();

  record Kind(
      String dir,
      String schema,
      Function<byte[], Decoded<?>> decode,
      Function<Object, byte[]> encode) {}

  private static final List<Kind> KINDS =
      List.of(
          new Kind(
              "task",
              "task.schema.json",
              b -> CODEC.decodeTask(b, HeaderLookup.NONE),
              o -> CODEC.encodeTask((TaskMessage) o)),
          new Kind(
              "stats",
              "stats.schema.json",
              CODEC::decodeStats,
              o -> CODEC.encodeStats((StatsDelta) o)),
          new Kind(
              "failure",
              "failure.schema.json",
              CODEC::decodeFailure,
              o -> CODEC.encodeFailure((FailureEvent) o)),
          new Kind(
              "job-manifest",
              "job-manifest.schema.json",
              CODEC::decodeJobEvent,
              o -> CODEC.encodeJobEvent((JobEvent) o)),
          new Kind(
              "job-completed",
              "job-completed.schema.json",
              CODEC::decodeJobEvent,
              o -> CODEC.encodeJobEvent((JobEvent) o)),
          new Kind(
              "item-resolved",
              "item-resolved.schema.json",
              CODEC::decodeJobEvent,
              o -> CODEC.encodeJobEvent((JobEvent) o)));

  @TestFactory
  Stream<DynamicTest> validFixturesPassSchemaDecodeAndRoundTrip() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Kind kind : KINDS) {
      JsonSchema schema = schema(kind.schema());
      for (Path file : files(kind.dir(), "valid")) {
        tests.add(
            DynamicTest.dynamicTest(
                kind.dir() + "/valid/" + file.getFileName(),
                () -> {
                  byte[] bytes = Files.readAllBytes(file);
                  assertThat(schema.validate(MAPPER.readTree(bytes))).as("schema errors").isEmpty();
                  Object decoded = kind.decode().apply(bytes).orThrow();
                  byte[] encoded = kind.encode().apply(decoded);
                  assertThat(schema.validate(MAPPER.readTree(encoded)))
                      .as("schema errors of re-encoded")
                      .isEmpty();
                  assertThat(kind.decode().apply(encoded).orThrow()).isEqualTo(decoded);
                }));
      }
    }
    assertThat(tests).hasSizeGreaterThanOrEqualTo(KINDS.size());
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> invalidFixturesAreRejectedWithTheExpectedFieldAndKind() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Kind kind : KINDS) {
      JsonSchema schema = schema(kind.schema());
      JsonNode expected =
          MAPPER.readTree(
              JSON_DIR
                  .resolve("fixtures")
                  .resolve(kind.dir())
                  .resolve("invalid/expected.json")
                  .toFile());
      List<Path> files = files(kind.dir(), "invalid");
      assertThat(files).as(kind.dir() + " has malformed-input fixtures").isNotEmpty();
      for (Path file : files) {
        String name = file.getFileName().toString();
        JsonNode want = expected.get(name);
        tests.add(
            DynamicTest.dynamicTest(
                kind.dir() + "/invalid/" + name,
                () -> {
                  assertThat(want).as("expected.json names " + name).isNotNull();
                  byte[] bytes = Files.readAllBytes(file);
                  Decoded<?> result = kind.decode().apply(bytes);
                  assertThat(result).isInstanceOf(Decoded.Invalid.class);
                  DecodeError error = result.failure().orElseThrow();
                  assertThat(error.kind().name()).isEqualTo(want.get("kind").asText());
                  assertThat(error.field()).isEqualTo(want.get("field").asText());
                  if (want.get("schemaRejects").asBoolean()) {
                    Set<ValidationMessage> errors = schema.validate(MAPPER.readTree(bytes));
                    assertThat(errors).as("schema rejects " + name).isNotEmpty();
                  }
                }));
      }
    }
    return tests.stream();
  }

  private static List<Path> files(String kind, String category) throws IOException {
    try (Stream<Path> s =
        Files.list(JSON_DIR.resolve("fixtures").resolve(kind).resolve(category))) {
      return s.filter(p -> !p.getFileName().toString().equals("expected.json")).sorted().toList();
    }
  }

  private static JsonSchema schema(String file) throws IOException {
    SchemaValidatorsConfig config =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(Files.readString(JSON_DIR.resolve(file)), config);
  }
}
