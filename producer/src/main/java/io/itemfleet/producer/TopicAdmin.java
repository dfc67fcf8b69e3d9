package io.itemfleet.producer;

import io.itemfleet.schemas.FleetTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, describes and scales a fleet's topics. ItemFleet never relies on broker auto-creation:
 * each topic is created with the configuration that fits what it carries.
 */
public final class TopicAdmin implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);
  private static final long DAY_MS = Duration.ofDays(1).toMillis();

  /** The admin client; owned. */
  private final Admin admin;

  /** The fleet's topic names. */
  private final FleetTopics topics;

  /** How long one admin call may take. */
  private final Duration timeout;

  public TopicAdmin(Map<String, Object> kafkaProperties, FleetTopics topics, Duration timeout) {
    Map<String, Object> p = new HashMap<>(kafkaProperties);
    p.putIfAbsent("request.timeout.ms", (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE));
    p.putIfAbsent("default.api.timeout.ms", (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE));
    this.admin = Admin.create(p);
    this.topics = topics;
    this.timeout = timeout;
    this.securityProtocol = String.valueOf(p.getOrDefault("security.protocol", "PLAINTEXT"));
  }

  /** The client's {@code security.protocol}, to explain a broker that never answers. */
  private final String securityProtocol;

  /** One topic's state. */
  public record TopicInfo(
      String name, int partitions, int replicationFactor, Map<String, String> configs) {}

  /**
   * Checks the broker answers within the timeout.
   *
   * @throws BrokerUnreachableException naming the bootstrap address
   */
  public void checkReachable(String bootstrap) {
    try {
      admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      throw new BrokerUnreachableException(bootstrap, timeout, securityProtocol, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrokerUnreachableException(bootstrap, timeout, e);
    }
  }

  /**
   * Creates every missing topic of the fleet with {@code partitions} partitions and {@code
   * replicationFactor} replicas; returns the ones it created.
   */
  public List<String> ensureTopics(int partitions, short replicationFactor) {
    return ensureTopics(partitions, Optional.of(replicationFactor));
  }

  /**
   * Creates every missing topic of the fleet with {@code partitions} partitions; returns the ones
   * it created. Without a {@code replicationFactor} the broker's {@code default.replication.factor}
   * applies (before, every command asked for 1, whatever the cluster).
   */
  public List<String> ensureTopics(int partitions, Optional<Short> replicationFactor) {
    if (partitions < 1) {
      throw new IllegalArgumentException("FLEET_PARTITIONS must be >= 1, was " + partitions);
    }
    Set<String> existing = call(admin.listTopics().names());
    List<NewTopic> missing = new ArrayList<>();
    for (String name : topics.all()) {
      if (!existing.contains(name)) {
        missing.add(
            new NewTopic(name, Optional.of(partitions), replicationFactor)
                .configs(configsFor(name)));
      }
    }
    List<String> created = new ArrayList<>();
    for (var e : admin.createTopics(missing).values().entrySet()) {
      try {
        e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        created.add(e.getKey());
      } catch (ExecutionException ex) {
        if (!(ex.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException(
              "could not create topic " + e.getKey() + ": " + ex.getCause().getMessage(),
              ex.getCause());
        }
      } catch (TimeoutException ex) {
        throw new IllegalStateException(
            "creating topic " + e.getKey() + " timed out after " + timeout.toMillis() + " ms", ex);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted creating topics", ex);
      }
    }
    if (!created.isEmpty()) {
      awaitServing(created);
      log.info("created topics {} with {} partitions", created, partitions);
    }
    return created;
  }

  /**
   * Waits until the leader of every partition of {@code names} answers an offset request. A topic
   * is announced before its partitions exist on the broker; an idempotent producer that writes in
   * that window can see its first batch fail while later ones land, and then fail for good with
   * OutOfOrderSequenceException.
   */
  private void awaitServing(List<String> names) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        Map<String, TopicDescription> d =
            admin
                .describeTopics(names)
                .allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        d.forEach(
            (name, desc) ->
                desc.partitions()
                    .forEach(
                        p ->
                            request.put(
                                new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        admin.listOffsets(request).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "topics "
                  + names
                  + " were created but did not start serving within "
                  + timeout.toMillis()
                  + " ms",
              e);
        }
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for new topics", e);
      }
    }
  }

  /** The fleet's topics that exist, in {@link FleetTopics#all()} order. */
  public List<TopicInfo> describe() {
    Set<String> existing = call(admin.listTopics().names());
    List<String> names = topics.all().stream().filter(existing::contains).toList();
    Map<String, TopicDescription> descriptions = call(admin.describeTopics(names).allTopicNames());
    List<ConfigResource> resources =
        names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
    Map<ConfigResource, Config> configs = call(admin.describeConfigs(resources).all());
    List<TopicInfo> out = new ArrayList<>();
    for (String n : names) {
      TopicDescription d = descriptions.get(n);
      Map<String, String> nonDefault = new LinkedHashMap<>();
      for (var entry : configs.get(new ConfigResource(ConfigResource.Type.TOPIC, n)).entries()) {
        if (!entry.isDefault()
            && entry.source()
                == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
          nonDefault.put(entry.name(), entry.value());
        }
      }
      out.add(
          new TopicInfo(
              n, d.partitions().size(), d.partitions().get(0).replicas().size(), nonDefault));
    }
    return out;
  }

  /**
   * Raises the partition count of the work topics (tasks and retries) to {@code partitions}, which
   * raises how many workers can share the work. Kafka cannot lower a partition count.
   *
   * @return the topics that changed
   */
  public List<String> scale(int partitions) {
    Map<String, TopicDescription> d =
        call(admin.describeTopics(topics.workTopics()).allTopicNames());
    Map<String, NewPartitions> increase = new LinkedHashMap<>();
    for (String name : topics.workTopics()) {
      int now = d.get(name).partitions().size();
      if (partitions < now) {
        throw new IllegalArgumentException(
            "cannot scale "
                + name
                + " down from "
                + now
                + " to "
                + partitions
                + " partitions: Kafka only adds partitions");
      }
      if (partitions > now) {
        increase.put(name, NewPartitions.increaseTo(partitions));
      }
    }
    if (!increase.isEmpty()) {
      call(admin.createPartitions(increase).all());
      log.info("scaled {} to {} partitions", increase.keySet(), partitions);
    }
    return List.copyOf(increase.keySet());
  }

  /** Retention and cleanup fitting what each topic carries. */
  Map<String, String> configsFor(String name) {
    Map<String, String> c = new HashMap<>();
    if (name.equals(topics.jobs())) {
      // Manifests are keyed by job and run: compaction keeps every one forever, and only those.
      c.put("cleanup.policy", "compact");
    } else if (name.equals(topics.failures())) {
      c.put("retention.ms", String.valueOf(30 * DAY_MS));
    } else {
      c.put("retention.ms", String.valueOf(7 * DAY_MS));
    }
    return c;
  }

  private <T> T call(org.apache.kafka.common.KafkaFuture<T> f) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "Kafka admin call failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Kafka admin call timed out after " + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during a Kafka admin call", e);
    }
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
