package com.example.thumbs;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.handler.TaskHandlerFactory;
import java.time.Duration;

/**
 * {@code handler: thumbnail}: a stand-in for real work. Item IDs that start with {@code missing-}
 * fail for good, {@code busy-} ones ask to be retried later, the rest "render" for {@code work}.
 */
public final class ThumbnailFactory implements TaskHandlerFactory {
  @Override
  public String name() {
    return "thumbnail";
  }

  @Override
  public TaskHandler create(String type, HandlerConfig config) {
    // Read every key here: a key nothing read fails the worker's start-up with its path.
    int width = (int) config.integer("width", 320, 16, 4096);
    Duration work = config.duration("work", Duration.ofMillis(5));
    return ctx -> {
      if (ctx.item().startsWith("missing-")) {
        return HandlerResult.failed("thumb.missing", "no source video for " + ctx.item());
      }
      if (ctx.item().startsWith("busy-") && ctx.attempt() == 1) {
        return HandlerResult.retryAfter("thumb.busy", "renderer busy", Duration.ofSeconds(1));
      }
      Thread.sleep(work.toMillis());
      ctx.log().log(System.Logger.Level.DEBUG, "rendered {0} at {1}px", ctx.item(), width);
      return HandlerResult.succeeded(ctx.item() + ".jpg@" + width);
    };
  }
}
