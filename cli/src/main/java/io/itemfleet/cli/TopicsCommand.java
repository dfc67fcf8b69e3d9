package io.itemfleet.cli;

import io.itemfleet.producer.TopicAdmin;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code fleet topics create|describe|scale}. */
@Command(
    mixinStandardHelpOptions = true,
    name = "topics",
    description = "Manage the fleet's topics: <prefix>.tasks, .retry.*, .failures, .stats, .jobs.",
    subcommands = {
      TopicsCommand.Create.class,
      TopicsCommand.Describe.class,
      TopicsCommand.Scale.class
    })
final class TopicsCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "name a subcommand: create, describe or scale");
  }

  static TopicAdmin admin(KafkaOptions kafka) {
    TopicAdmin admin =
        new TopicAdmin(kafka.clientProperties(), kafka.topics(), Duration.ofSeconds(15));
    admin.checkReachable(kafka.bootstrap);
    return admin;
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "create",
      description = "Create every missing topic with --partitions partitions (FLEET_PARTITIONS).")
  static final class Create implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Override
    public Integer call() {
      try (TopicAdmin admin = admin(kafka)) {
        List<String> created = admin.ensureTopics(kafka.partitions, kafka.replicationFactor());
        System.out.println(
            created.isEmpty()
                ? "all topics exist"
                : "created "
                    + String.join(", ", created)
                    + " with "
                    + kafka.partitions
                    + " partitions");
      }
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "describe",
      description = "List the fleet's topics with partitions and settings.")
  static final class Describe implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Override
    public Integer call() {
      try (TopicAdmin admin = admin(kafka)) {
        List<TopicAdmin.TopicInfo> infos = admin.describe();
        if (infos.isEmpty()) {
          System.out.println(
              "no topics with prefix '" + kafka.topicPrefix + "' (run: fleet topics create)");
          return 0;
        }
        System.out.printf("%-32s %10s %8s  %s%n", "topic", "partitions", "replicas", "settings");
        for (TopicAdmin.TopicInfo t : infos) {
          System.out.printf(
              "%-32s %10d %8d  %s%n", t.name(), t.partitions(), t.replicationFactor(), t.configs());
        }
      }
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "scale",
      description =
          "Raise the partitions of the work topics (tasks, retries): the ceiling on worker processes.")
  static final class Scale implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Parameters(
        paramLabel = "PARTITIONS",
        description = "New partition count (Kafka can only add partitions).")
    int partitions;

    @Override
    public Integer call() {
      try (TopicAdmin admin = admin(kafka)) {
        List<String> changed;
        try {
          changed = admin.scale(partitions);
        } catch (IllegalArgumentException e) {
          throw new UsageException(e.getMessage());
        }
        System.out.println(
            changed.isEmpty()
                ? "already at " + partitions + " partitions"
                : "scaled " + String.join(", ", changed) + " to " + partitions + " partitions");
      }
      return 0;
    }
  }
}
