package io.itemfleet.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskContext;
import io.itemfleet.schemas.TaskMessage;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExecHandlerTest {
  private static TaskContext ctx(String item) {
    TaskMessage t = TaskMessage.of("job-1", "t", item);
    return TaskView.of(t);
  }

  private static HandlerResult run(String script, String item) throws InterruptedException {
    return new ExecHandler(List.of("sh", "-c", script, "sh"), Set.of(75)).handle(ctx(item));
  }

  @Test
  @org.junit.jupiter.api.Timeout(30)
  void outputLargerThanThePipeNeverBlocksAndTheTailIsKept() throws Exception {
    long t0 = System.nanoTime();
    HandlerResult r =
        run(
            "head -c 300000 /dev/zero | tr '\\000' x; echo; echo 'Traceback: the real cause'; exit 3",
            "i");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
    assertThat(r)
        .isInstanceOfSatisfying(
            HandlerResult.Failed.class,
            f -> {
              assertThat(f.errorClass()).isEqualTo("exec.exit.3");
              assertThat(f.message()).endsWith("xxxx\nTraceback: the real cause");
              assertThat(f.message().length()).isLessThan(ExecHandler.TAIL_BYTES + 100);
            });
  }

  @Test
  void commandGetsTheTaskOnStdinAndFleetVariables() throws Exception {
    HandlerResult r =
        run("read -r line; echo \"$FLEET_JOB/$FLEET_ITEM/$FLEET_ATTEMPT $line\"; exit 3", "x1");
    assertThat(((HandlerResult.Failed) r).message())
        .contains("job-1/x1/1 {\"v\":1,\"job\":\"job-1\",\"type\":\"t\",\"item\":\"x1\"}");
  }

  @Test
  void placeholdersInsideSubstitutedValuesAreNotExpandedAgain() {
    ExecHandler h = new ExecHandler(List.of("echo", "--", "${item}", "${job}"), Set.of());
    assertThat(h.arguments(ctx("${job}$1\\x")))
        .containsExactly("echo", "--", "${job}$1\\x", "job-1");
  }

  @Test
  void itemIdIsAppendedWhenNotPlaced() throws Exception {
    ExecHandler h = new ExecHandler(List.of("echo", "--"), Set.of());
    assertThat(h.arguments(ctx("-rf"))).containsExactly("echo", "--", "-rf");
    assertThat(h.handle(ctx("-rf"))).isInstanceOf(HandlerResult.Succeeded.class);
  }

  /**
   * Known gap of the fourth review: a command without ${item} got the ID appended, and an ID
   * starting with '-' (which any producer can send) reached the program as an option. Such an item
   * is now FAILED, saying how to place the ID, and the program does not run.
   */
  @Test
  void anAppendedIdThatLooksLikeAnOptionIsRefusedWithoutRunning() throws Exception {
    java.nio.file.Path ran = java.nio.file.Files.createTempFile("exec-ran", ".txt");
    java.nio.file.Files.delete(ran);
    ExecHandler h = new ExecHandler(List.of("touch"), Set.of());
    assertThat(h.handle(ctx("--version")))
        .isInstanceOfSatisfying(
            HandlerResult.Failed.class,
            f -> {
              assertThat(f.errorClass()).isEqualTo("exec.option_like_item");
              assertThat(f.message()).contains("--").contains("${item}");
            });
    // An ordinary ID is appended and runs as before.
    assertThat(h.handle(ctx(ran.toString()))).isInstanceOf(HandlerResult.Succeeded.class);
    assertThat(ran).exists();
    java.nio.file.Files.delete(ran);
  }

  @Test
  @org.junit.jupiter.api.Timeout(30)
  void aBackgroundChildHoldingTheOutputOpenDoesNotHoldTheAttempt() throws Exception {
    long t0 = System.nanoTime();
    HandlerResult r = run("sleep 600 & echo started; exit 0", "i");
    assertThat(r).isInstanceOf(HandlerResult.Succeeded.class);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
  }

  /**
   * A start refused for the moment (here ETXTBSY: the program is still open for writing, as while a
   * deploy copies it; EAGAIN at a process limit is the same) was FAILED for good, as a missing
   * program is. It is retried now; a missing program still fails.
   */
  @Test
  void aStartRefusedForTheMomentIsRetriedAndAMissingProgramFails(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path prog = tmp.resolve("being-written.sh");
    try (var out = java.nio.file.Files.newOutputStream(prog)) {
      out.write("#!/bin/sh\nexit 0\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      prog.toFile().setExecutable(true);
      HandlerResult busy = new ExecHandler(List.of(prog.toString()), Set.of()).handle(ctx("i"));
      assertThat(busy)
          .isInstanceOfSatisfying(
              HandlerResult.Retry.class,
              r -> {
                assertThat(r.errorClass()).isEqualTo("exec.start");
                assertThat(r.message()).contains("26").contains("busy");
              });
    }
    HandlerResult missing =
        new ExecHandler(List.of(tmp.resolve("no-such-program").toString()), Set.of())
            .handle(ctx("i"));
    assertThat(missing)
        .isInstanceOfSatisfying(
            HandlerResult.Failed.class, f -> assertThat(f.errorClass()).isEqualTo("exec.start"));
    // The message quotes the program first, whose name may say anything: the errno read is the
    // last one.
    HandlerResult misleading =
        new ExecHandler(List.of(tmp.resolve("x-error=26, busy").toString()), Set.of())
            .handle(ctx("i"));
    assertThat(misleading).isInstanceOf(HandlerResult.Failed.class);
  }

  /**
   * A command that exits leaving a process behind on its output ({@code sleep 100000 &}): the
   * attempt ends, but the leftover lived on, holding the pipe and the thread reading it, because
   * once the command has exited its children are no longer its descendants.
   */
  @Test
  @org.junit.jupiter.api.Timeout(30)
  void aProcessLeftBehindIsKilledWithItsAttempt(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path pid = tmp.resolve("pid");
    HandlerResult r = run("sleep 100000 & echo $! > '" + pid + "'; exit 0", "i");
    assertThat(r).isInstanceOf(HandlerResult.Succeeded.class);
    assertThat(LeftoverPids.stillAlive(pid)).as("the sleep it left behind").isFalse();
  }
}
