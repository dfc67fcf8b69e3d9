package io.itemfleet.schemas;

/** Where a message was read: Kafka topic, partition and offset. */
public record SourceRecord(String topic, int partition, long offset) {
  public SourceRecord {
    if (topic.isEmpty() || partition < 0 || offset < 0) {
      throw new IllegalArgumentException(
          "bad source: topic='" + topic + "', partition=" + partition + ", offset=" + offset);
    }
  }

  @Override
  public String toString() {
    return topic + "-" + partition + "@" + offset;
  }
}
