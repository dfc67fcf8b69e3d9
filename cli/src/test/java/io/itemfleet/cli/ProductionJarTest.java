package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The production jar (cli/target/fleet.jar, the image's) is built without the embedded servers
 * (cli/pom.xml). Here the fleet command is loaded from this test's class path minus the embedded
 * module, as it is in that jar: every command still builds, and {@code fleet local} says where to
 * find it instead of failing with a NoClassDefFoundError.
 */
class ProductionJarTest {

  @Test
  void withoutTheEmbeddedServersEveryCommandBuildsAndLocalSaysWhereItIs() throws Exception {
    List<URL> urls = new ArrayList<>();
    int left = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      String e = entry.replace('\\', '/');
      if (e.contains("/embedded/target/") || e.contains("itemfleet-embedded")) {
        left++;
        continue;
      }
      urls.add(Path.of(entry).toUri().toURL());
    }
    assertThat(left)
        .as("the embedded module is on the test class path, to be left out")
        .isPositive();
    try (URLClassLoader lean =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThat(
              (boolean)
                  accessible(
                          lean.loadClass(LocalCommand.class.getName())
                              .getDeclaredMethod("embeddedServersPresent"))
                      .invoke(null))
          .isFalse();
      Object cl =
          lean.loadClass(FleetCommand.class.getName()).getMethod("commandLine").invoke(null);
      // The CommandLine class of the lean loader, not ours: call it reflectively.
      Class<?> type = cl.getClass();
      var err = new java.io.StringWriter();
      type.getMethod("setErr", java.io.PrintWriter.class).invoke(cl, new java.io.PrintWriter(err));
      int code =
          (int)
              type.getMethod("execute", String[].class).invoke(cl, (Object) new String[] {"local"});
      assertThat(code).isEqualTo(CommandLine.ExitCode.USAGE);
      assertThat(err.toString())
          .contains("fleet local is not in this jar")
          .contains("./fleet local");
      int help =
          (int)
              type.getMethod("execute", String[].class)
                  .invoke(cl, (Object) new String[] {"worker", "--help"});
      assertThat(help).isZero();
    }
  }

  private static java.lang.reflect.Method accessible(java.lang.reflect.Method m) {
    m.setAccessible(true);
    return m;
  }
}
