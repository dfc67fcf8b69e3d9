package io.itemfleet.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.itemfleet.schemas.FleetTopics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The workers' consumer group as Kafka's admin API sees it: members, their partitions, the lag per
 * topic and the retry tiers' backlog, so that "stuck or slow?" is one look. Answers are kept for
 * two seconds (a page refreshing every two seconds asks Kafka once per refresh, not per tab).
 */
final class FleetView implements AutoCloseable {
  private static final long CACHE_NANOS = 2_000_000_000L;

  private final Admin admin;
  private final FleetTopics topics;
  private final String group;

  /** Not a monitor: a virtual thread waiting on one would pin its carrier. */
  private final java.util.concurrent.locks.ReentrantLock lock =
      new java.util.concurrent.locks.ReentrantLock();

  private ObjectNode cached;
  private Exception cachedFailure;
  private long cachedAt;

  FleetView(Map<String, Object> kafka, FleetTopics topics) {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put("client.id", "fleet-console");
    p.put("request.timeout.ms", 5_000);
    p.put("default.api.timeout.ms", 5_000);
    this.admin = Admin.create(p);
    this.topics = topics;
    this.group = topics.prefix() + ".workers";
  }

  /** The group's state, members and lag, as the API answers it. */
  ObjectNode snapshot() throws Exception {
    if (!lock.tryLock(6, TimeUnit.SECONDS)) {
      throw new IllegalStateException("Kafka's admin API is slow to answer; try again");
    }
    try {
      if (System.nanoTime() - cachedAt < CACHE_NANOS) {
        if (cachedFailure != null) throw cachedFailure; // a failure is kept as long as an answer
        if (cached != null) return cached;
      }
      try {
        cached = fetch();
        cachedFailure = null;
      } catch (Exception e) {
        cached = null;
        cachedFailure = e;
      }
      cachedAt = System.nanoTime();
      if (cachedFailure != null) throw cachedFailure;
      return cached;
    } finally {
      lock.unlock();
    }
  }

  private ObjectNode fetch() throws Exception {
    ObjectNode out = StatusCommand.JSON.createObjectNode();
    out.put("group", group);
    ConsumerGroupDescription d =
        admin.describeConsumerGroups(List.of(group)).all().get(5, TimeUnit.SECONDS).get(group);
    out.put("state", d.groupState().toString());
    ArrayNode members = out.putArray("members");
    for (MemberDescription m : d.members()) {
      ObjectNode o = members.addObject();
      o.put("clientId", m.clientId());
      o.put("host", m.host());
      m.groupInstanceId().ifPresent(i -> o.put("workerId", i));
      ArrayNode parts = o.putArray("partitions");
      new TreeMap<String, TopicPartition>(toMap(m.assignment().topicPartitions()))
          .values()
          .forEach(tp -> parts.add(tp.topic() + "-" + tp.partition()));
    }
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(5, TimeUnit.SECONDS);
    Map<String, TopicDescription> described =
        admin.describeTopics(topics.workTopics()).allTopicNames().get(5, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
    described.forEach(
        (name, t) ->
            t.partitions()
                .forEach(
                    p -> ask.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
    Map<String, Long> lag = new TreeMap<>();
    admin
        .listOffsets(ask)
        .all()
        .get(5, TimeUnit.SECONDS)
        .forEach(
            (tp, end) -> {
              OffsetAndMetadata c = committed.get(tp);
              lag.merge(
                  tp.topic(), Math.max(0, end.offset() - (c == null ? 0 : c.offset())), Long::sum);
            });
    ObjectNode lagNode = out.putObject("lag");
    long retryBacklog = 0;
    for (var e : lag.entrySet()) {
      lagNode.put(e.getKey(), e.getValue());
      if (topics.retryTopics().contains(e.getKey())) retryBacklog += e.getValue();
    }
    out.put("tasksLag", lag.getOrDefault(topics.tasks(), 0L));
    out.put("retryBacklog", retryBacklog);
    return out;
  }

  private static Map<String, TopicPartition> toMap(Collection<TopicPartition> tps) {
    Map<String, TopicPartition> m = new HashMap<>();
    for (TopicPartition tp : tps)
      m.put(tp.topic() + "-" + String.format("%05d", tp.partition()), tp);
    return m;
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(2));
  }
}
