package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.schemas.FleetHeaders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

class RawHeadersTest {
  /** A header as the consumer makes it: key and value are slices in the middle of a fetch. */
  private static RecordHeader fetched(String key, String value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    ByteBuffer fetch = ByteBuffer.allocate(k.length + v.length + 6);
    fetch.position(3);
    fetch.put(k).put(v);
    ByteBuffer keySlice = fetch.duplicate().position(3).limit(3 + k.length);
    ByteBuffer valueSlice = fetch.duplicate().position(3 + k.length).limit(3 + k.length + v.length);
    return new RecordHeader(keySlice, valueSlice);
  }

  @Test
  void thisKafkaClientIsReadInPlace() {
    assertThat(RawHeaders.inPlace()).isTrue(); // else a client upgrade silently slowed lanes down
  }

  @Test
  void fetchedHeadersAreNamedAndReadWithoutDecodingTheirKeys() {
    assertThat(RawHeaders.kind(fetched(FleetHeaders.JOB, "j"))).isEqualTo(RawHeaders.Kind.JOB);
    assertThat(RawHeaders.kind(fetched(FleetHeaders.TYPE, "t"))).isEqualTo(RawHeaders.Kind.TYPE);
    assertThat(RawHeaders.kind(fetched(FleetHeaders.REPLAY, "1")))
        .isEqualTo(RawHeaders.Kind.REPLAY);
    assertThat(RawHeaders.kind(fetched("fleet-jo", "j"))).isEqualTo(RawHeaders.Kind.OTHER);
    assertThat(RawHeaders.kind(fetched("fleet-joc", "j"))).isEqualTo(RawHeaders.Kind.OTHER);
    assertThat(RawHeaders.value(fetched(FleetHeaders.JOB, "nightly-é"))).isEqualTo("nightly-é");
  }

  @Test
  void recentValuesAreSharedAndDifferentOnesAreNot() {
    String first = RawHeaders.value(fetched(FleetHeaders.JOB, "job-a"));
    assertThat(RawHeaders.value(fetched(FleetHeaders.JOB, "job-a"))).isSameAs(first);
    assertThat(RawHeaders.value(fetched(FleetHeaders.JOB, "job-b"))).isEqualTo("job-b");
    assertThat(RawHeaders.value(fetched(FleetHeaders.JOB, "job-a"))).isEqualTo("job-a");
  }

  @Test
  void decodedAndForeignHeadersAnswerTheSame() {
    RecordHeader decoded = fetched(FleetHeaders.TYPE, "sim");
    decoded.key(); // the slices are gone once the client decoded them
    decoded.value();
    assertThat(RawHeaders.kind(decoded)).isEqualTo(RawHeaders.Kind.TYPE);
    assertThat(RawHeaders.value(decoded)).isEqualTo("sim");
    Header foreign =
        new Header() {
          @Override
          public String key() {
            return FleetHeaders.JOB;
          }

          @Override
          public byte[] value() {
            return null;
          }
        };
    assertThat(RawHeaders.kind(foreign)).isEqualTo(RawHeaders.Kind.JOB);
    assertThat(RawHeaders.value(foreign)).isNull();
    assertThat(RawHeaders.value(new RecordHeader(FleetHeaders.JOB, null))).isNull();
  }
}
