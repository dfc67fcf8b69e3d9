package io.itemfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.schemas.TaskMessage;
import io.itemfleet.worker.config.ConfigException;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.handlers.TaskView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A handler jar built against the handler API alone, loaded with --handlers. */
class HandlerJarsTest {
  @TempDir static Path tmp;
  static Path handlers;

  /** Compiles a handler (and a stand-in of a library the worker also has) into a jar. */
  @BeforeAll
  static void buildJar() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("thumbs"));
    Files.createDirectories(src.resolve("org/slf4j"));
    Files.writeString(
        src.resolve("thumbs/ThumbFactory.java"),
        """
        package thumbs;
        import io.itemfleet.handler.*;
        import java.time.Duration;
        public final class ThumbFactory implements TaskHandlerFactory {
          public String name() { return "thumbnail"; }
          public TaskHandler create(String type, HandlerConfig config) {
            Duration every = config.duration("every", Duration.ofSeconds(5));
            // The handler's own org.slf4j.LoggerFactory, not the worker's: no clash of versions.
            String own = org.slf4j.LoggerFactory.whoAmI();
            return ctx -> ctx.item().equals("bad")
                ? HandlerResult.failed("thumb.bad", "cannot read " + ctx.item())
                : HandlerResult.succeeded(own + " " + ctx.item() + " " + every.toMillis()
                    + " " + ctx.payloadJson());
          }
        }
        """);
    // A handler that looks things up through its thread's context class loader, as Jackson's
    // findAndRegisterModules() and a plain ServiceLoader.load(X.class) do.
    Files.writeString(
        src.resolve("thumbs/LoaderFactory.java"),
        """
        package thumbs;
        import io.itemfleet.handler.*;
        public final class LoaderFactory implements TaskHandlerFactory {
          public interface Own {}
          public static final class OwnImpl implements Own {}
          public String name() { return "loader"; }
          public TaskHandler create(String type, HandlerConfig config) {
            if (config.bool("fail", false)) throw new IllegalStateException("no licence file");
            if (config.bool("none", false)) return null;
            String atCreate = Thread.currentThread().getContextClassLoader().getName();
            return ctx -> {
              long found = 0;
              for (Own o : java.util.ServiceLoader.load(Own.class)) found++;
              return HandlerResult.succeeded(atCreate + " "
                  + Thread.currentThread().getContextClassLoader().getName() + " " + found);
            };
          }
        }
        """);
    Files.writeString(
        src.resolve("org/slf4j/LoggerFactory.java"),
        """
        package org.slf4j;
        public final class LoggerFactory {
          public static String whoAmI() { return "handler-own-slf4j"; }
        }
        """);
    Path classes = tmp.resolve("classes");
    Files.createDirectories(classes);
    String api =
        Path.of(TaskHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc =
        javac.run(
            null,
            null,
            null,
            "-d",
            classes.toString(),
            "-cp",
            api, // the handler API and nothing else
            src.resolve("thumbs/ThumbFactory.java").toString(),
            src.resolve("thumbs/LoaderFactory.java").toString(),
            src.resolve("org/slf4j/LoggerFactory.java").toString());
    assertThat(rc).as("the handler compiles against the API jar alone").isZero();
    handlers = tmp.resolve("handlers");
    Files.createDirectories(handlers);
    try (JarOutputStream jar =
        new JarOutputStream(Files.newOutputStream(handlers.resolve("thumbs.jar")))) {
      for (String c :
          List.of(
              "thumbs/ThumbFactory.class",
              "thumbs/LoaderFactory.class",
              "thumbs/LoaderFactory$Own.class",
              "thumbs/LoaderFactory$OwnImpl.class",
              "org/slf4j/LoggerFactory.class")) {
        jar.putNextEntry(new JarEntry(c));
        Files.copy(classes.resolve(c), jar);
        jar.closeEntry();
      }
      jar.putNextEntry(new JarEntry("META-INF/services/io.itemfleet.handler.TaskHandlerFactory"));
      jar.write("thumbs.ThumbFactory\nthumbs.LoaderFactory\n".getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
      jar.putNextEntry(new JarEntry("META-INF/services/thumbs.LoaderFactory$Own"));
      jar.write("thumbs.LoaderFactory$OwnImpl\n".getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
  }

  private static HandlerRegistry registry(String yaml) {
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    return HandlerRegistry.create(config, Map.of(), List.of(handlers));
  }

  @Test
  void aJarHandlerRunsInItsOwnClassLoaderWithItsOwnLibraries() throws Exception {
    HandlerRegistry r = registry("types:\n  thumb: {handler: thumbnail, every: 2s}\n");
    TaskMessage t =
        TaskMessage.of("j", "thumb", "v-1")
            .withPayload(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"w\":64}"));
    HandlerResult ok = r.forType("thumb").orElseThrow().handle(TaskView.of(t));
    assertThat(ok).isEqualTo(HandlerResult.succeeded("handler-own-slf4j v-1 2000 {\"w\":64}"));
    HandlerResult bad =
        r.forType("thumb").orElseThrow().handle(TaskView.of(TaskMessage.of("j", "thumb", "bad")));
    assertThat(bad).isInstanceOf(HandlerResult.Failed.class);
    // The worker's own slf4j is a different class from the handler's.
    assertThat(org.slf4j.LoggerFactory.class.getClassLoader())
        .isNotSameAs(r.getClass().getClassLoader().getParent());
  }

  @Test
  void aJarHandlerSeesItsOwnLoaderAsItsThreadsContextLoader() throws Exception {
    // Before: the context loader was the worker's (lanes and main inherit it), so a handler's
    // ServiceLoader.load found none of its own services, and Jackson's findAndRegisterModules()
    // found the worker's modules (ServiceConfigurationError: not a subtype).
    HandlerRegistry r = registry("types:\n  l: {handler: loader}\n");
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    HandlerResult seen =
        r.forType("l").orElseThrow().handle(TaskView.of(TaskMessage.of("j", "l", "x")));
    assertThat(seen)
        .isEqualTo(HandlerResult.succeeded("handlers:thumbs.jar handlers:thumbs.jar 1"));
    assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before); // restored
  }

  @Test
  void aFactoryThatThrowsOrReturnsNothingFailsStartUpNamingTheType() {
    // Before: the factory's IllegalStateException escaped as a stack trace naming no type, and a
    // null handler a NullPointerException.
    assertThatThrownBy(() -> registry("types:\n  l: {handler: loader, fail: true}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("types.l: handler 'loader' could not start")
        .hasMessageContaining("no licence file");
    assertThatThrownBy(() -> registry("types:\n  l: {handler: loader, none: true}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("types.l: handler 'loader' made no handler");
  }

  @Test
  void aJarThatIsNotAJarFailsStartUpNamingIt() throws Exception {
    // Before: the class loader skipped it without a word, and the warning that followed said its
    // services file was missing — a truncated copy looked like a build mistake.
    Path dir = tmp.resolve("broken-handlers");
    Files.createDirectories(dir);
    Files.write(dir.resolve("cut.jar"), new byte[] {'P', 'K', 3, 4, 0, 0});
    FleetConfig config = FleetConfig.parse("types:\n  t: {handler: noop}\n", TaskSettings.DEFAULTS);
    assertThatThrownBy(() -> HandlerRegistry.create(config, Map.of(), List.of(dir)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cut.jar")
        .hasMessageContaining("not a readable jar");
  }

  /**
   * Review (2026-11-30, handlers): two jars whose factories take one name failed start-up naming
   * the two classes, which in two copies of one jar are the same name twice: which file to remove
   * was not said. Now each factory is named with its jar.
   */
  @Test
  void twoJarsTakingOneHandlerNameFailStartUpNamingBothJars() throws Exception {
    Path two = tmp.resolve("two-copies");
    Files.createDirectories(two);
    Files.copy(handlers.resolve("thumbs.jar"), two.resolve("thumbs.jar"));
    Files.copy(handlers.resolve("thumbs.jar"), two.resolve("thumbs-old.jar"));
    FleetConfig config = FleetConfig.parse("{}", TaskSettings.DEFAULTS);
    assertThatThrownBy(() -> HandlerRegistry.create(config, Map.of(), List.of(two)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("(thumbs.jar)")
        .hasMessageContaining("(thumbs-old.jar)")
        .hasMessageContaining("is named '");
  }

  @Test
  void aTypoInAJarHandlersKeysFailsStartUpWithItsPath() {
    assertThatThrownBy(() -> registry("types:\n  thumb: {handler: thumbnail, evry: 2s}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("types.thumb.evry: unknown key (this handler reads: every)");
  }

  @Test
  void withoutTheDirectoryTheHandlerIsUnknownAndTheErrorSaysHowToLoadIt() {
    FleetConfig config =
        FleetConfig.parse("types:\n  thumb: {handler: thumbnail}\n", TaskSettings.DEFAULTS);
    assertThatThrownBy(() -> HandlerRegistry.create(config, Map.of()))
        .hasMessageContaining("unknown handler 'thumbnail'")
        .hasMessageContaining("--handlers DIR");
  }
}
