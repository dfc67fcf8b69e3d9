package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class FleetCommandTest {
  @Test
  void unknownSubcommandExitsWithUsageCode() {
    CommandLine cl = FleetCommand.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("no-such-command")).isEqualTo(FleetCommand.EXIT_USAGE);
    assertThat(err.toString()).contains("no-such-command");
  }

  @Test
  void versionNamesTheJavaRuntime() {
    CommandLine cl = FleetCommand.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out));
    assertThat(cl.execute("--version")).isZero();
    assertThat(out.toString()).startsWith("fleet ").contains("Java");
  }

  @Test
  void everySubcommandAnswersHelp() {
    for (String[] args :
        new String[][] {
          {"produce", "--help"}, {"worker", "--help"}, {"topics", "scale", "--help"}
        }) {
      CommandLine cl = FleetCommand.commandLine();
      StringWriter out = new StringWriter();
      cl.setOut(new PrintWriter(out));
      assertThat(cl.execute(args)).isZero();
      assertThat(out.toString()).contains("Usage: fleet " + args[0]);
    }
  }
}
