package io.itemfleet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fleet} command: one launcher for every ItemFleet tool and service. */
@Command(
    name = "fleet",
    mixinStandardHelpOptions = true,
    versionProvider = FleetCommand.Version.class,
    description = "ItemFleet: a worker fleet on Kafka for millions of small per-item tasks.",
    subcommands = {
      ProduceCommand.class,
      JobsCommand.class,
      TopicsCommand.class,
      WorkerCommand.class,
      RecorderCommand.class,
      StatusCommand.class,
      WatchCommand.class,
      FailuresCommand.class,
      ReplayCommand.class,
      AlertsCommand.class,
      LocalCommand.class,
      CommandLine.HelpCommand.class
    })
public final class FleetCommand implements Runnable {

  /** Exit code for bad arguments or configuration. */
  static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    io.itemfleet.web.MetricsServer.limitRequestTime(); // before any HTTP server exists
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, for embedding (benchmarks, tests). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new FleetCommand());
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          int code =
              switch (e) {
                case UsageException u -> EXIT_USAGE;
                case CliFailure f -> f.code;
                case io.itemfleet.producer.BrokerUnreachableException b ->
                    ProduceCommand.EXIT_UNREACHABLE;
                default -> {
                  e.printStackTrace(line.getErr());
                  yield CommandLine.ExitCode.SOFTWARE;
                }
              };
          line.getErr().println(line.getCommandSpec().qualifiedName() + ": " + e.getMessage());
          return code;
        });
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Reads the version Maven wrote into the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = FleetCommand.class.getPackage().getImplementationVersion();
      return new String[] {
        "fleet " + (v == null ? "(development build)" : v) + ", Java " + Runtime.version()
      };
    }
  }
}
