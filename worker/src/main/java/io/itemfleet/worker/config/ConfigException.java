package io.itemfleet.worker.config;

/** Bad worker configuration: names the setting and its value. Start-up fails with it. */
public final class ConfigException extends IllegalArgumentException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
