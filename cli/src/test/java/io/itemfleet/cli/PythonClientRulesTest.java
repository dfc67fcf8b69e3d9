package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.schemas.HeaderLookup;
import io.itemfleet.schemas.MessageCodec;
import io.itemfleet.schemas.Names;
import io.itemfleet.schemas.TaskMessage;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Python client's checks and records against the Java rules that read them (no Kafka needed):
 * what the client lets through, the workers must accept.
 */
class PythonClientRulesTest {
  private static JsonNode python(String code) throws Exception {
    Process p =
        new ProcessBuilder(
                "python3",
                "-c",
                "import sys, json, base64; sys.path.insert(0, "
                    + "'"
                    + ForeignProducerTest.CLIENT
                    + "'); import itemfleet\n"
                    + code)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return new ObjectMapper().readTree(out);
  }

  /**
   * Java counts a name's length in UTF-16 code units, the client counted code points: a job of 200
   * emoji passed the client, and then every item was POISON and the manifest refused, so the job
   * never completed.
   */
  @Test
  void aNameTheWorkersRefuseForItsLengthIsRefusedByTheClient() throws Exception {
    assumeTrue(Python.runs(), "python3 is not installed");
    String emoji200 = "\uD83D\uDE00".repeat(200);
    String emoji128 = "\uD83D\uDE00".repeat(128);
    assertThat(Names.problem("job", emoji200)).isPresent();
    assertThat(Names.problem("job", emoji128)).isEmpty();
    JsonNode r =
        python(
            "print(json.dumps([itemfleet._name_problem('\\U0001F600' * 200),"
                + " itemfleet._name_problem('\\U0001F600' * 128),"
                + " itemfleet._name_problem(None),"
                + " itemfleet._label_problem('\\U0001F600' * 3000)]))");
    assertThat(r.get(0).isNull()).as("200 emoji refused: %s", r).isFalse();
    assertThat(r.get(0).asText()).contains("was 400");
    assertThat(r.get(1).isNull()).as("128 emoji pass").isTrue();
    assertThat(r.get(2).asText()).as("no name at all").contains("must be a string");
    assertThat(r.get(3).isNull()).as("a label of 6,000 code units, refused").isFalse();
  }

  /**
   * In the headers form a value is the item ID, unless it starts with "{": then the workers read it
   * as a JSON task. The client sent an ID such as "{a}" as it was, and it was POISON.
   */
  @Test
  void anItemStartingWithABraceInTheHeadersFormIsReadAsThatItem() throws Exception {
    assumeTrue(Python.runs(), "python3 is not installed");
    for (String item : new String[] {"{a}", " {b", "plain"}) {
      JsonNode r =
          python(
              "v, h = itemfleet.task_record('j', 't', "
                  + new ObjectMapper().writeValueAsString(item)
                  + ", 'headers')\n"
                  + "print(json.dumps({'v': base64.b64encode(v).decode(),"
                  + " 'h': {k: x.decode() for k, x in h}}))");
      byte[] value = Base64.getDecoder().decode(r.get("v").asText());
      Map<String, String> headers =
          Map.of(
              "fleet-job",
              r.at("/h/fleet-job").asText(),
              "fleet-type",
              r.at("/h/fleet-type").asText());
      TaskMessage t = new MessageCodec().decodeTask(value, HeaderLookup.of(headers)).orThrow();
      assertThat(t.item()).isEqualTo(item);
      assertThat(t.job()).isEqualTo("j");
    }
  }
}
