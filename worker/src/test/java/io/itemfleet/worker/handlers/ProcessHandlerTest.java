package io.itemfleet.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.schemas.TaskMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The {@code process} handler against real Python children using clients/python/itemfleet.py. */
@Timeout(120)
class ProcessHandlerTest {
  static final Path CLIENT = Path.of("..", "clients", "python").toAbsolutePath().normalize();

  @TempDir static Path tmp;
  static Path script;

  @BeforeAll
  static void writeHandler() throws Exception {
    assumeThat(python()).as("python3 is not installed: the process handler tests skip").isTrue();
    script = tmp.resolve("handler.py");
    Files.writeString(
        script,
        """
        import os, sys, time
        sys.path.insert(0, %s)
        import itemfleet

        def handle(task):
            print("working on", task.item)          # goes to stderr, i.e. the worker's log
            if task.item == "bad":
                raise itemfleet.Fail("no such video", error_class="input.missing")
            if task.item == "flaky":
                raise itemfleet.Retry("busy", after=30)
            if task.item == "bug":
                return 1 / 0
            if task.item == "crash":
                os._exit(3)
            if task.item == "garbage":
                itemfleet._protocol.write("not json\\n"); itemfleet._protocol.flush(); time.sleep(5)
            if task.item == "tool":
                import subprocess
                subprocess.run(["echo", "a tool writing to its inherited stdout"])
                os.write(1, b"and C code writing to descriptor 1\\n")
                return "ran a tool"
            if task.item == "flood":
                itemfleet._protocol.write("x" * (64 << 20)); itemfleet._protocol.flush(); time.sleep(5)
            if task.item == "hang":
                time.sleep(600)
            if task.item.startswith("slow"):
                time.sleep(0.3)
            if task.item == "resume":
                if task.checkpoint is None:
                    task.save_checkpoint("half")
                    raise itemfleet.Retry("later")
                return "resumed from " + task.checkpoint
            return {"echo": task.payload, "attempt": task.attempt}

        itemfleet.serve(handle)
        """
            .formatted("'" + CLIENT + "'"));
  }

  static boolean python() {
    try {
      return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** Handlers made by the running test; their children are killed after it. */
  private final List<ProcessHandler> made = new ArrayList<>();

  private ProcessHandler handler(int processes, int inflight) {
    ProcessHandler h =
        new ProcessHandler("t", List.of("python3", script.toString()), processes, inflight);
    made.add(h);
    return h;
  }

  @org.junit.jupiter.api.AfterEach
  void killChildren() {
    made.forEach(ProcessHandler::close);
  }

  /** A context that keeps saved checkpoints, as the Redis-backed one does. */
  private static TaskContext ctx(String item, int attempt, Map<String, String> checkpoints) {
    TaskMessage t =
        new TaskMessage(
            "j",
            "t",
            item,
            attempt - 1,
            Optional.empty(),
            JsonNodeFactory.instance.objectNode().put("k", item),
            io.itemfleet.schemas.TaskOptions.NONE);
    return new TaskView() {
      @Override
      public TaskMessage task() {
        return t;
      }

      @Override
      public Optional<String> checkpoint() {
        return Optional.ofNullable(checkpoints.get(item));
      }

      @Override
      public void saveCheckpoint(String progress) {
        checkpoints.put(item, progress);
      }
    };
  }

  private static TaskContext ctx(String item) {
    return ctx(item, 1, new ConcurrentHashMap<>());
  }

  @Test
  void outcomesMapToResultsAndTheChildStaysUp() throws Exception {
    ProcessHandler h = handler(1, 4);
    assertThat(h.handle(ctx("ok")))
        .isEqualTo(
            new HandlerResult.Succeeded(
                Optional.of("{\"echo\": {\"k\": \"ok\"}, \"attempt\": 1}")));
    assertThat(h.handle(ctx("bad")))
        .isEqualTo(HandlerResult.failed("input.missing", "no such video"));
    assertThat(h.handle(ctx("flaky")))
        .isEqualTo(
            new HandlerResult.Retry("handler.retry", "busy", Optional.of(Duration.ofSeconds(30))));
    assertThat(h.handle(ctx("bug")))
        .isInstanceOfSatisfying(
            HandlerResult.Retry.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo("ZeroDivisionError");
              assertThat(r.message()).contains("division by zero").contains("Traceback");
            });
  }

  @Test
  void aChildThatDiesFailsOnlyItsAttemptsRetryablyAndIsStartedAgain() throws Exception {
    ProcessHandler h = handler(1, 4);
    assertThat(h.handle(ctx("crash")))
        .isInstanceOfSatisfying(
            HandlerResult.Retry.class, r -> assertThat(r.errorClass()).isEqualTo("process.died"));
    HandlerResult next = h.handle(ctx("ok"));
    for (int i = 0; i < 50 && !(next instanceof HandlerResult.Succeeded); i++) {
      Thread.sleep(100); // the slot's backoff (100 ms) before the child is started again
      next = h.handle(ctx("ok"));
    }
    assertThat(next).isInstanceOf(HandlerResult.Succeeded.class);
    assertThat(h.handle(ctx("garbage")))
        .isInstanceOfSatisfying(
            HandlerResult.Retry.class,
            r -> assertThat(r.message()).contains("not JSON").contains("not json"));
  }

  /**
   * A child writing 64 MiB without a newline: its reply line is cut at 16 Mi characters and the
   * child killed, its attempt retried. Before, the whole line was read into the heap (128 MB of
   * chars here; a few hundred MB more and the worker died of OutOfMemoryError, and again after
   * every restart on the same item).
   */
  @Test
  void aChildFloodingStdoutWithoutANewlineIsKilledNotReadWhole() throws Exception {
    ProcessHandler h = handler(1, 1);
    assertThat(h.handle(ctx("flood")))
        .isInstanceOfSatisfying(
            HandlerResult.Retry.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo("process.died");
              assertThat(r.message()).contains("a line over 16777216 characters");
            });
  }

  /**
   * A tool the handler runs inherits descriptor 1; before, only Python's sys.stdout was moved to
   * stderr, so the tool's output went into the protocol and the worker killed the child: a handler
   * that calls ffmpeg could never succeed.
   */
  @Test
  void aToolWritingToItsInheritedStdoutDoesNotBreakTheProtocol() throws Exception {
    ProcessHandler h = handler(1, 1);
    assertThat(h.handle(ctx("tool")))
        .isEqualTo(new HandlerResult.Succeeded(Optional.of("ran a tool")));
    assertThat(h.handle(ctx("ok"))).isInstanceOf(HandlerResult.Succeeded.class);
  }

  @Test
  void aTimedOutAttemptKillsItsStuckChild() throws Exception {
    ProcessHandler h = handler(1, 1);
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    h.handle(ctx("hang"));
                  } catch (InterruptedException expected) {
                    // as the watchdog's interrupt does
                  } catch (Exception e) {
                    throw new RuntimeException(e);
                  }
                });
    Thread.sleep(1500);
    t.interrupt();
    t.join(10_000);
    assertThat(t.isAlive()).isFalse();
    HandlerResult next = h.handle(ctx("ok"));
    for (int i = 0; i < 50 && !(next instanceof HandlerResult.Succeeded); i++) {
      Thread.sleep(100);
      next = h.handle(ctx("ok"));
    }
    assertThat(next).isInstanceOf(HandlerResult.Succeeded.class); // the slot was freed
  }

  @Test
  void oneChildRunsItsInflightAttemptsAtOnce() throws Exception {
    ProcessHandler h = handler(1, 8);
    h.handle(ctx("ok")); // started
    long t0 = System.nanoTime();
    List<Future<HandlerResult>> all = new ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 8; i++) {
        String item = "slow-" + i;
        all.add(pool.submit(() -> h.handle(ctx(item))));
      }
      for (Future<HandlerResult> f : all) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isInstanceOf(HandlerResult.Succeeded.class);
      }
    }
    // eight 0.3 s attempts side by side, not one after another (2.4 s)
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_800);
  }

  @Test
  void aCheckpointSavedByOneAttemptIsReadByTheRetry() throws Exception {
    ProcessHandler h = handler(1, 2);
    Map<String, String> saved = new ConcurrentHashMap<>();
    assertThat(h.handle(ctx("resume", 1, saved))).isInstanceOf(HandlerResult.Retry.class);
    assertThat(saved).containsEntry("resume", "half");
    assertThat(h.handle(ctx("resume", 2, saved)))
        .isEqualTo(new HandlerResult.Succeeded(Optional.of("resumed from half")));
  }
}
