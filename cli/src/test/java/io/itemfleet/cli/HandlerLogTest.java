package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.handlers.TaskView;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@code ctx.log()} (a {@link System.Logger}) is documented to write to the worker's log. Without a
 * bridge the JDK sent it to java.util.logging: its own format on stderr, INFO and up whatever
 * FLEET_LOG_LEVEL said, so a handler's DEBUG lines never showed.
 */
class HandlerLogTest {
  @Test
  void aHandlersLinesGoToTheWorkersLogAtItsLevels() {
    Logger logback = (Logger) LoggerFactory.getLogger("io.itemfleet.handler.thumb");
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    logback.addAppender(seen);
    Level before = logback.getLevel();
    logback.setLevel(Level.DEBUG);
    try {
      TaskContext ctx = TaskView.of(TaskMessage.of("j", "thumb", "i"));
      ctx.log().log(System.Logger.Level.DEBUG, "rendered {0}", ctx.item());
      assertThat(seen.list)
          .extracting(ILoggingEvent::getFormattedMessage, e -> e.getLevel().toString())
          .containsExactly(org.assertj.core.groups.Tuple.tuple("rendered i", "DEBUG"));
    } finally {
      logback.detachAppender(seen);
      logback.setLevel(before);
    }
  }
}
