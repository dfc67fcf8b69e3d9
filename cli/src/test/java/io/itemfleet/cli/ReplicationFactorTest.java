package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.itemfleet.cli.ProduceCommandTest.Run;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The replication factor of the topics the fleet creates. Before, every command created them with
 * replication factor 1, whatever the cluster: one broker's lost disk lost tasks, failures and job
 * manifests, and a cluster with min.insync.replicas=2 refused every write.
 */
@ExtendWith(FleetTestKit.class)
class ReplicationFactorTest {

  private static Run topicsCreate(TestFleet f, String prefix, String... more) {
    String[] base = {
      "topics", "create", "--bootstrap", f.kafkaBootstrap(), "--topic-prefix", prefix
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return ProduceCommandTest.fleet(all);
  }

  @Test
  void aReplicationFactorTheClusterCannotGiveIsRefusedNamingIt(TestFleet f) throws Exception {
    // The test cluster has one broker: three replicas cannot be placed.
    Run r = topicsCreate(f, f.prefix() + "-rf3", "--replication-factor", "3");
    assertThat(r.code()).as(r.out() + r.err()).isNotZero();
    assertThat(r.err()).contains("replication factor");
    assertThat(topicsOf(f, f.prefix() + "-rf3")).isEmpty();
  }

  @Test
  void withoutTheOptionTopicsTakeTheBrokersDefault(TestFleet f) throws Exception {
    Run r = topicsCreate(f, f.prefix() + "-rfd", "--replication-factor", "1");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    Run d = topicsCreate(f, f.prefix() + "-rfb");
    assertThat(d.code()).as(d.out() + d.err()).isZero();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", f.kafkaBootstrap()))) {
      Set<String> names = topicsOf(f, f.prefix() + "-rfb");
      assertThat(names).isNotEmpty();
      for (TopicDescription t : admin.describeTopics(names).allTopicNames().get().values()) {
        assertThat(t.partitions().get(0).replicas()).hasSize(1); // default.replication.factor
      }
    }
  }

  @Test
  void aReplicationFactorBelowOneIsAUsageError(TestFleet f) {
    Run r = topicsCreate(f, f.prefix() + "-rf0", "--replication-factor", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--replication-factor");
  }

  private static Set<String> topicsOf(TestFleet f, String prefix) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", f.kafkaBootstrap()))) {
      Set<String> all = admin.listTopics().names().get();
      return all.stream()
          .filter(n -> n.startsWith(prefix + "."))
          .collect(java.util.stream.Collectors.toSet());
    }
  }
}
