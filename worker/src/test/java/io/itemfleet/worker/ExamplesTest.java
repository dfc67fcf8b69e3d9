package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.OutcomeCounts;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.handlers.ProcessHandler;
import io.itemfleet.worker.handlers.TaskView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The examples in examples/ work as their README says. */
@ExtendWith(FleetTestKit.class)
class ExamplesTest {
  static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

  @TempDir Path tmp;

  /** Builds examples/java-handler the way its pom does: against the handler API alone. */
  private Path javaExampleJar() throws Exception {
    Path project = EXAMPLES.resolve("java-handler");
    List<String> sources;
    try (Stream<Path> s = Files.walk(project.resolve("src/main/java"))) {
      sources = s.filter(p -> p.toString().endsWith(".java")).map(Path::toString).toList();
    }
    Path classes = tmp.resolve("classes");
    List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", apiJar()));
    args.addAll(sources);
    assertThat(
            ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(String[]::new)))
        .isZero();
    Path dir = tmp.resolve("handlers");
    Files.createDirectories(dir);
    Path resources = project.resolve("src/main/resources");
    try (JarOutputStream jar =
            new JarOutputStream(Files.newOutputStream(dir.resolve("thumbs.jar")));
        Stream<Path> c = Files.walk(classes);
        Stream<Path> r = Files.walk(resources)) {
      for (Path root : List.of(classes, resources)) {
        for (Path f : (root == classes ? c : r).filter(Files::isRegularFile).toList()) {
          jar.putNextEntry(new JarEntry(root.relativize(f).toString().replace('\\', '/')));
          Files.copy(f, jar);
          jar.closeEntry();
        }
      }
    }
    return dir;
  }

  private static String apiJar() throws Exception {
    return Path.of(TaskHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .toString();
  }

  @Test
  void theJavaExampleLoadsWithHandlersAndRunsItsItems(TestFleet fleet) throws Exception {
    Path handlers = javaExampleJar();
    FleetHarness h = new FleetHarness(fleet, 2);
    List<String> items = new ArrayList<>(FleetHarness.ids(30));
    items.add("missing-1");
    items.add("busy-1");
    h.produce("ex-java", "thumbnail", items);
    FleetConfig config =
        FleetConfig.load(EXAMPLES.resolve("java-handler/fleet.yaml"), TaskSettings.DEFAULTS);
    try (Worker w =
        Worker.start(
            h.settings("w-example", 16),
            config,
            HandlerRegistry.create(config, Map.of(), List.of(handlers)),
            WorkerMetrics.NONE)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> h.totals("ex-java").counts().total() >= 32);
    }
    assertThat(h.totals("ex-java").counts()).isEqualTo(new OutcomeCounts(31, 0, 1, 0, 0));
    assertThat(h.totals("ex-java").retries()).isEqualTo(1); // busy-1, once
  }

  @Test
  void thePythonExampleHandlerAnswersThroughTheProcessHandler() throws Exception {
    boolean python;
    try {
      python = new ProcessBuilder("python3", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      python = false;
    }
    assumeThat(python).as("python3 is not installed: the Python example is not run").isTrue();
    ProcessHandler h =
        new ProcessHandler(
            "thumbnail-py",
            List.of("python3", EXAMPLES.resolve("python-handler/handler.py").toString()),
            1,
            4);
    try {
      assertThat(h.handle(TaskView.of(TaskMessage.of("j", "thumbnail-py", "video-1"))))
          .isEqualTo(HandlerResult.succeeded("{\"thumbnail\": \"video-1.jpg\"}"));
      assertThat(h.handle(TaskView.of(TaskMessage.of("j", "thumbnail-py", "missing-1"))))
          .isEqualTo(HandlerResult.failed("thumb.missing", "no source video for missing-1"));
    } finally {
      h.close();
    }
  }
}
