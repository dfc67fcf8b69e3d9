package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.producer.RecordForm;
import org.junit.jupiter.api.Test;

class RecordFormsTest {
  @Test
  void bothFormsParseInAnyCaseAndAnythingElseIsAUsageErrorNamingItsSource() {
    assertThat(RecordForms.parse("compact", "--record-form")).isEqualTo(RecordForm.COMPACT);
    assertThat(RecordForms.parse(" Headers ", "FLEET_RECORD_FORM")).isEqualTo(RecordForm.HEADERS);
    assertThatThrownBy(() -> RecordForms.parse("plain", "FLEET_RECORD_FORM"))
        .isInstanceOf(UsageException.class)
        .hasMessage("FLEET_RECORD_FORM must be 'compact' or 'headers', was 'plain'");
    assertThatThrownBy(() -> RecordForms.parse(null, "--record-form"))
        .isInstanceOf(UsageException.class);
  }
}
