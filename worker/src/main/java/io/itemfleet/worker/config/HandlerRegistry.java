package io.itemfleet.worker.config;

import io.itemfleet.handler.HandlerConfig;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.handler.TaskHandlerFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Task type name → handler, built once at start-up from fleet.yaml and the factories on the class
 * path.
 */
public final class HandlerRegistry implements AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(HandlerRegistry.class);

  /** Handler per task type. */
  private final Map<String, TaskHandler> byType;

  private HandlerRegistry(Map<String, TaskHandler> byType) {
    this.byType = Map.copyOf(byType);
  }

  /**
   * Creates every type's handler; an unknown handler name or bad handler setting fails here. {@code
   * extra} maps type names to handlers given in code (embedding, tests); they take the settings of
   * the same-named fleet.yaml type, if any.
   */
  public static HandlerRegistry create(FleetConfig config, Map<String, TaskHandler> extra) {
    return create(config, extra, List.of());
  }

  /**
   * As {@link #create(FleetConfig, Map)}, with the handler factories of the jars in {@code
   * handlerDirs} ({@code --handlers}) beside the class path's; a jar's factory may not take a name
   * already taken.
   */
  public static HandlerRegistry create(
      FleetConfig config, Map<String, TaskHandler> extra, List<java.nio.file.Path> handlerDirs) {
    Map<String, TaskHandlerFactory> factories = new LinkedHashMap<>();
    for (TaskHandlerFactory f : ServiceLoader.load(TaskHandlerFactory.class)) {
      factories.put(f.name(), f);
    }
    for (java.nio.file.Path dir : handlerDirs) {
      for (TaskHandlerFactory f : HandlerJars.load(dir)) {
        TaskHandlerFactory before = factories.putIfAbsent(f.name(), f);
        if (before != null) {
          throw new ConfigException(
              "--handlers: "
                  + origin(f)
                  + " in "
                  + dir
                  + " is named '"
                  + f.name()
                  + "', which "
                  + origin(before)
                  + " already is; remove one of the two, or rename its handler");
        }
      }
    }
    Map<String, TaskHandler> byType = new LinkedHashMap<>();
    for (TaskType t : config.types().values()) {
      TaskHandlerFactory f = factories.get(t.handlerName());
      if (f == null) {
        throw new ConfigException(
            "types."
                + t.name()
                + ".handler: unknown handler '"
                + t.handlerName()
                + "' (known: "
                + String.join(", ", new TreeSet<>(factories.keySet()))
                + (handlerDirs.isEmpty() ? "; handler jars load with --handlers DIR" : "")
                + ")");
      }
      HandlerConfig keys = HandlerConfig.of("types." + t.name(), t.handlerConfig());
      ClassLoader jar = HandlerJars.loaderOf(f);
      try {
        TaskHandler h =
            jar == null
                ? f.create(t.name(), keys)
                : HandlerJars.inContext(jar, () -> f.create(t.name(), keys));
        if (h == null) {
          throw new ConfigException(
              "types." + t.name() + ": handler '" + t.handlerName() + "' made no handler (null)");
        }
        byType.put(t.name(), jar == null ? h : new JarHandler(h, jar));
        keys.rejectUnread(); // a key the handler never read is a typo: fail now, with its path
      } catch (IllegalArgumentException e) {
        String m = String.valueOf(e.getMessage());
        throw e instanceof ConfigException c
            ? c
            : new ConfigException(m.startsWith("types.") ? m : "types." + t.name() + ": " + m);
      } catch (RuntimeException | LinkageError e) {
        // A factory's own failure (a missing file, a class its jar lacks): the type is named,
        // where before the bare exception escaped with a stack trace naming none.
        throw new ConfigException(
            "types." + t.name() + ": handler '" + t.handlerName() + "' could not start: " + e, e);
      }
    }
    byType.putAll(extra); // handlers given in code win over fleet.yaml's handler name
    return new HandlerRegistry(byType);
  }

  /**
   * A factory's class and where it came from: its jar's file name, or "built in". Two copies of one
   * jar hold the same class name, so the class alone did not say which file to remove.
   */
  private static String origin(TaskHandlerFactory f) {
    String cls = f.getClass().getName();
    if (HandlerJars.loaderOf(f) == null) return cls + " (built in)";
    try {
      java.security.CodeSource src = f.getClass().getProtectionDomain().getCodeSource();
      java.nio.file.Path jar = java.nio.file.Path.of(src.getLocation().toURI());
      return cls + " (" + jar.getFileName() + ")";
    } catch (RuntimeException | java.net.URISyntaxException e) {
      return cls;
    }
  }

  /** Set by the first {@link #close}. */
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** How long {@link #close} waits for the handlers to close. */
  static final java.time.Duration CLOSE_WAIT = java.time.Duration.ofSeconds(10);

  /**
   * Closes every handler that is {@link AutoCloseable} (the {@code process} handler's children; a
   * jar's handler may be too, closed with its jar's class loader as context), each once, after the
   * worker that used them has stopped. Before, nothing closed them: a child still running an item
   * outlived a stopped worker, doing its side effects while the item ran again elsewhere. Only the
   * first call closes (the CLI's main and its shutdown hook may both call); each handler closes on
   * a thread of its own, waited for at most {@link #CLOSE_WAIT} in all, so that one whose close
   * blocks cannot keep the process from ending. A handler's failure to close is logged.
   */
  @Override
  public void close() {
    close(CLOSE_WAIT);
  }

  /** Counted down once the first {@link #close} has waited for the handlers. */
  private final java.util.concurrent.CountDownLatch closeWaited =
      new java.util.concurrent.CountDownLatch(1);

  /**
   * As {@link #close()}, waiting at most {@code wait}. A later call waits for the first one (as
   * long): the shutdown hook returning at once while main's call still waited let the JVM halt and
   * kill the closing threads.
   */
  void close(java.time.Duration wait) {
    if (!closed.compareAndSet(false, true)) {
      try {
        closeWaited.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      closeAll(wait);
    } finally {
      closeWaited.countDown();
    }
  }

  private void closeAll(java.time.Duration wait) {
    java.util.Set<Object> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    java.util.List<Thread> closing = new java.util.ArrayList<>();
    for (Map.Entry<String, TaskHandler> e : byType.entrySet()) {
      ClassLoader jar = e.getValue() instanceof JarHandler j ? j.loader() : null;
      TaskHandler h = e.getValue() instanceof JarHandler j ? j.inner() : e.getValue();
      if (!(h instanceof AutoCloseable c) || !seen.add(h)) continue;
      // Each on its own thread: one whose close blocks holds back neither the others nor the exit.
      closing.add(
          Thread.ofPlatform()
              .daemon()
              .name("fleet-handlers-close")
              .start(() -> closeOne(e.getKey(), c, jar)));
    }
    long end = System.nanoTime() + wait.toNanos();
    try {
      for (Thread t : closing) t.join(Math.max(1, (end - System.nanoTime()) / 1_000_000));
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
    long open = closing.stream().filter(Thread::isAlive).count();
    if (open > 0)
      log.warn("{} handlers still closing after {} ms; not waited for", open, wait.toMillis());
  }

  private static void closeOne(String type, AutoCloseable c, ClassLoader jar) {
    try {
      if (jar == null) {
        c.close();
      } else {
        HandlerJars.inContext(
            jar,
            () -> {
              c.close();
              return null;
            });
      }
    } catch (Exception | LinkageError x) {
      log.warn("closing the handler of type {}: {}", type, x.toString());
    }
  }

  public Optional<TaskHandler> forType(String type) {
    return Optional.ofNullable(byType.get(type));
  }

  /** Known type names, for "unknown task type" errors. */
  public String knownTypes() {
    return byType.isEmpty() ? "none configured" : String.join(", ", new TreeSet<>(byType.keySet()));
  }
}
