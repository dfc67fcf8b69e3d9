package io.itemfleet.cli;

import io.itemfleet.producer.TaskProducer;
import io.itemfleet.producer.TopicAdmin;
import io.itemfleet.schemas.JobManifest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fleet jobs close}: a job's total for items that other clients sent. */
@Command(
    mixinStandardHelpOptions = true,
    name = "jobs",
    description = "Manage jobs: give one its expected total (close).",
    subcommands = {JobsCommand.Close.class})
final class JobsCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "name a subcommand: close");
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "close",
      description = {
        "Publish a manifest for JOB: COUNT items of TYPE were sent to <prefix>.tasks by another",
        "client (plain IDs with fleet-job/fleet-type headers, say), so the job has a total and",
        "completes once that many outcomes are recorded. Several batches: one --run-id each; the",
        "same run ID published twice counts once."
      })
  static final class Close implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Parameters(index = "0", description = "The job.")
    String job;

    @Option(names = "--type", required = true, description = "The items' task type.")
    String type;

    @Option(names = "--count", required = true, description = "How many items were sent.")
    long count;

    @Option(
        names = "--run-id",
        defaultValue = "close",
        description =
            "Names this batch of the job (default ${DEFAULT-VALUE}); the job's total is the sum"
                + " over its run IDs.")
    String runId;

    @Option(
        names = "--label",
        description = "Label on the manifest (repeatable), e.g. source=python-etl.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Override
    public Integer call() {
      if (count < 0) throw new UsageException("--count must be >= 0, was " + count);
      if (runId.isBlank()) throw new UsageException("--run-id must be 1 to 128 characters");
      // What the recorder would refuse, refused here: its manifest would be skipped and the job
      // would never get its total.
      var runProblem = JobManifest.runIdProblem(runId);
      if (runProblem.isPresent()) {
        throw new UsageException("--run-id: " + Terminal.safe(runProblem.get()));
      }
      var labelProblem = JobManifest.labelsProblem(labels);
      if (labelProblem.isPresent()) throw new UsageException(Terminal.safe(labelProblem.get()));
      try (TopicAdmin admin =
          new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(30))) {
        admin.checkReachable(kafka.bootstrap);
        admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
      }
      JobManifest m;
      try (TaskProducer p = new TaskProducer(kafka.clientProperties(), kafka.topics())) {
        m = p.publishManifest(job, type, count, runId, labels, Duration.ofSeconds(30));
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      } catch (IllegalStateException e) {
        throw new CliFailure(3, e.getMessage());
      }
      System.out.printf(
          "job %s: manifest %s/%s published, %,d items of type %s; watch with: fleet watch %s%n",
          Terminal.safe(m.job()),
          Terminal.safe(m.job()),
          Terminal.safe(m.runId()),
          m.count(),
          Terminal.safe(m.type()),
          Terminal.shellQuote(m.job()));
      return 0;
    }
  }
}
