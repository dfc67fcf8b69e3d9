package io.itemfleet.producer;

/**
 * How a produce run sends an item with no options or payload. Every worker reads both; workers
 * built before 2026-11-29 read only {@link #HEADERS} (they count a compact record as POISON), so a
 * fleet upgrades its workers before its producers, or produces with {@link #HEADERS} meanwhile.
 */
public enum RecordForm {
  /** The value {@code 0x1E job 0x1F type 0x1F item}, no headers: the default, and the cheapest. */
  COMPACT,
  /** The item ID as the value, job and type in the {@code fleet-job}/{@code fleet-type} headers. */
  HEADERS
}
