package io.itemfleet.worker.config;

import io.itemfleet.handler.TaskHandlerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handler jars from a directory ({@code fleet worker --handlers DIR}, {@code FLEET_HANDLERS}), each
 * in its own class loader whose parent shows only the JDK and the handler API ({@code
 * io.itemfleet.handler}): a handler's own Jackson, HTTP client or logging never meets the worker's.
 * A jar may bring its dependencies inside it (a shaded jar) or beside it in a folder of the same
 * name without {@code .jar} ({@code thumbs.jar} with {@code thumbs/*.jar}).
 */
final class HandlerJars {
  private static final Logger log = LoggerFactory.getLogger(HandlerJars.class);

  private HandlerJars() {}

  /** Every factory of every jar in {@code dir}, in file-name order. */
  static List<TaskHandlerFactory> load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ConfigException("--handlers: " + dir + " is not a directory (FLEET_HANDLERS)");
    }
    List<TaskHandlerFactory> out = new ArrayList<>();
    List<Path> jars;
    try (Stream<Path> s = Files.list(dir)) {
      jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("--handlers: cannot list " + dir, e);
    }
    for (Path jar : jars) {
      readable(jar);
      List<URL> urls = new ArrayList<>();
      try {
        urls.add(jar.toUri().toURL());
        Path libs = dir.resolve(jar.getFileName().toString().replaceFirst("\\.jar$", ""));
        if (Files.isDirectory(libs)) {
          try (Stream<Path> s = Files.list(libs)) {
            for (Path lib : s.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
              urls.add(lib.toUri().toURL());
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("--handlers: cannot read " + jar, e);
      }
      URLClassLoader loader =
          new URLClassLoader("handlers:" + jar.getFileName(), urls.toArray(URL[]::new), API_ONLY);
      int n = 0;
      for (TaskHandlerFactory f : ServiceLoader.load(TaskHandlerFactory.class, loader)) {
        if (f.getClass().getClassLoader() != loader) continue; // the worker's own, seen through
        out.add(f);
        n++;
      }
      log.info("loaded {} handler factories from {}", n, jar);
      if (n == 0) {
        log.warn(
            "{} declares no handler: it needs META-INF/services/io.itemfleet.handler.TaskHandlerFactory",
            jar);
      }
    }
    return out;
  }

  /**
   * Fails start-up on a file named .jar that is not a readable jar (truncated, empty, not a zip):
   * before, the class loader skipped it without a word, and the warning that followed said its
   * services file was missing.
   */
  private static void readable(Path jar) {
    try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
      f.stream().count(); // reads the central directory through
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          "--handlers: "
              + jar
              + " is not a readable jar ("
              + e.getMessage()
              + ") (FLEET_HANDLERS)");
    }
  }

  /** The class loader of a factory from a handler jar; null for one of the worker's own. */
  static ClassLoader loaderOf(TaskHandlerFactory f) {
    ClassLoader l = f.getClass().getClassLoader();
    return l instanceof URLClassLoader u && u.getParent() == API_ONLY ? l : null;
  }

  /**
   * {@code work} with {@code loader} as the thread's context class loader, restored after: what a
   * jar's code looks up through it (ServiceLoader.load(X.class), Jackson's findAndRegisterModules)
   * is then its own, not the worker's.
   */
  static <T, E extends Exception> T inContext(ClassLoader loader, Work<T, E> work) throws E {
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(loader);
    try {
      return work.run();
    } finally {
      t.setContextClassLoader(before);
    }
  }

  /** Work done in a jar's context: a factory's {@code create}, a handler's {@code handle}. */
  interface Work<T, E extends Exception> {
    T run() throws E;
  }

  /**
   * The parent of every handler jar's loader: the JDK (through the platform loader) and, from the
   * worker, the handler API package and nothing else.
   */
  private static final ClassLoader API_ONLY =
      new ClassLoader("handler-api", ClassLoader.getPlatformClassLoader()) {
        private final ClassLoader worker = HandlerJars.class.getClassLoader();

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
          if (name.startsWith("io.itemfleet.handler.")) return worker.loadClass(name);
          throw new ClassNotFoundException(name);
        }

        @Override
        protected URL findResource(String name) {
          return name.startsWith("io/itemfleet/handler/") ? worker.getResource(name) : null;
        }

        @Override
        protected java.util.Enumeration<URL> findResources(String name) {
          return java.util.Collections.emptyEnumeration(); // the worker's services stay its own
        }
      };
}
