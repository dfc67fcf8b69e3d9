package io.itemfleet.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Sends every log line to a file instead of the terminal, so that a command's own lines and its
 * progress bar are all a person sees ({@code fleet local}); the file keeps everything.
 */
final class LogToFile {
  private LogToFile() {}

  /** Replaces the root logger's appenders with one writing {@code file}; returns the file. */
  static Path redirect(Path file) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return file; // another logging backend: leave it as configured
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n");
    encoder.start();
    FileAppender<ILoggingEvent> appender = new FileAppender<>();
    appender.setContext(ctx);
    appender.setName("FILE");
    appender.setFile(file.toString());
    appender.setAppend(true);
    appender.setEncoder(encoder);
    appender.start();
    Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
    return file;
  }
}
