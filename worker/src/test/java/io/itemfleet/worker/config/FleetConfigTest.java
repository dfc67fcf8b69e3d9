package io.itemfleet.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FleetConfigTest {
  private static final String DESIGN_EXAMPLE =
      """
      defaults:
        retries: 3
        retryDelays: [5s, 10s, 20s]
        jitter: 0.2
        timeout: 30s
        idempotencyTtl: 7d
      types:
        process-video:
          handler: http
          url: http://localhost:8080/process
          retries: 5
          retryDelays: [5s, 10s, 20s, 30s, 60s]
          tags: [video-ingest]
          cache: {key: "${type}:${item}", ttl: 1d}
        sim:
          handler: simulate
          latency: 20ms
          failureRate: 0.02
          permanentFailureRate: 0.01
      limits:
        video-ingest: {concurrency: 200, rate: 50/s}
      """;

  @Test
  void designExampleParsesAndTypesOverrideDefaults() {
    FleetConfig c = FleetConfig.parse(DESIGN_EXAMPLE, TaskSettings.DEFAULTS);
    TaskType video = c.type("process-video").orElseThrow();
    assertThat(video.settings().retries()).isEqualTo(5);
    assertThat(video.settings().retryDelays()).hasSize(5);
    assertThat(video.settings().tags()).containsExactly("video-ingest");
    assertThat(video.handlerConfig()).containsEntry("url", "http://localhost:8080/process");
    assertThat(c.type("sim").orElseThrow().settings().timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(HandlerRegistry.create(c, Map.of()).forType("sim")).isPresent();
  }

  @Test
  void aKeyGivenTwiceIsRefusedNotSilentlyReplaced() {
    // Before: SnakeYAML kept the last of the two, so the first type (or setting) vanished unseen.
    String twice =
        """
        types:
          thumb: {handler: simulate, retries: 9}
          other: {handler: noop}
          thumb: {handler: noop}
        """;
    assertThatThrownBy(() -> FleetConfig.parse(twice, TaskSettings.DEFAULTS))
        .hasMessageContaining("thumb");
  }

  @Test
  void keysThatAreNotTextAndKeysWithoutAValueAreNamedNotCrashedOn() {
    // Before: a ClassCastException and a NullPointerException ("fleet worker: null").
    assertThatThrownBy(
            () -> FleetConfig.parse("types:\n  2024: {handler: noop}\n", TaskSettings.DEFAULTS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("types: key '2024' (Integer) must be text");
    assertThatThrownBy(
            () ->
                FleetConfig.parse(
                    "types:\n  t:\n    handler: http\n    url: http://h/\n    headers:\n",
                    TaskSettings.DEFAULTS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("types.t.headers: has no value");
  }

  @Test
  void aliasesThatExpandToMillionsOfValuesAreRefusedBeforeAnythingPrintsThem() {
    // Thirteen levels of three aliases: 39 aliases (under SnakeYAML's 50) that stand for 1.6
    // million values. Before, an error message printed them all (megabytes; 16 levels ran out of
    // memory).
    StringBuilder y = new StringBuilder("types:\n  t:\n    handler: noop\n");
    y.append("    l0: &a0 [x, x, x]\n");
    for (int i = 1; i <= 12; i++) {
      y.append("    l").append(i).append(": &a").append(i).append(" [*a").append(i - 1);
      y.append(", *a").append(i - 1).append(", *a").append(i - 1).append("]\n");
    }
    y.append("    timeout: *a12\n");
    assertThatThrownBy(() -> FleetConfig.parse(y.toString(), TaskSettings.DEFAULTS))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(e.getMessage()).contains("expands").hasSizeLessThan(500));
  }

  @Test
  void workerDurationsOutOfRangeAreRefused() {
    WorkerSettings ok =
        WorkerSettings.defaults(Map.of(), new io.itemfleet.schemas.FleetTopics("fleet"), "w", 8);
    // Before: a drain timeout of 200,000 days overflowed to a negative wait at SIGTERM (no final
    // commit, exit 1), and a lease of 30 days held a dead worker's items for as long.
    assertThatThrownBy(() -> ok.withDrainTimeout(Duration.ofDays(200_000)))
        .hasMessageContaining("drainTimeout");
    assertThatThrownBy(() -> ok.withDrainTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("drainTimeout");
    assertThatThrownBy(() -> ok.withLeaseTtl(Duration.ofDays(30))).hasMessageContaining("leaseTtl");
    ok.withDrainTimeout(Duration.ofHours(24)).withLeaseTtl(Duration.ofHours(1));
  }

  @Test
  void badValuesNameTheirPath() {
    assertThatThrownBy(
            () ->
                FleetConfig.parse(
                    "types:\n  t: {handler: noop, retries: -1}\n", TaskSettings.DEFAULTS))
        .hasMessageContaining("types.t");
    assertThatThrownBy(
            () -> FleetConfig.parse("defaults:\n  timeout: soon\n", TaskSettings.DEFAULTS))
        .hasMessageContaining("defaults.timeout")
        .hasMessageContaining("'soon'");
    assertThatThrownBy(() -> FleetConfig.parse("defaults:\n  retires: 3\n", TaskSettings.DEFAULTS))
        .hasMessageContaining("defaults.retires: unknown setting");
    assertThatThrownBy(
            () -> FleetConfig.parse("types:\n  t: {retries: 1}\n", TaskSettings.DEFAULTS))
        .hasMessageContaining("types.t.handler: required");
  }

  @Test
  void unknownHandlerAndUnknownHandlerKeyFailAtStart() {
    FleetConfig c = FleetConfig.parse("types:\n  t: {handler: ftp}\n", TaskSettings.DEFAULTS);
    assertThatThrownBy(() -> HandlerRegistry.create(c, Map.of()))
        .hasMessageContaining("unknown handler 'ftp'")
        .hasMessageContaining("simulate");
    FleetConfig d =
        FleetConfig.parse(
            "types:\n  t: {handler: simulate, latencyy: 5ms}\n", TaskSettings.DEFAULTS);
    assertThatThrownBy(() -> HandlerRegistry.create(d, Map.of()))
        .hasMessageContaining("types.t")
        .hasMessageContaining("latencyy");
  }

  @Test
  void printConfigNamesWhereEachSettingCameFrom() {
    FleetConfig c = FleetConfig.parse(DESIGN_EXAMPLE, TaskSettings.DEFAULTS);
    String report = ConfigReport.render(c, Map.of("timeout", "env FLEET_TIMEOUT"));
    assertThat(report)
        .contains("type process-video (handler http)")
        .containsPattern("retries +5 +fleet.yaml types.process-video")
        .containsPattern("cache +\\{key: \\$\\{type}:\\$\\{item}, ttl: 1d} +fleet.yaml types")
        .containsPattern("timeout +30s +fleet.yaml defaults")
        .containsPattern("persistResult +false +built-in default")
        .contains("video-ingest    concurrency 200, rate 50.0/s");
    String noYaml =
        ConfigReport.render(
            FleetConfig.empty(TaskSettings.DEFAULTS), Map.of("timeout", "env FLEET_TIMEOUT"));
    assertThat(noYaml).containsPattern("timeout +30s +env FLEET_TIMEOUT");
  }

  @Test
  void idempotencyTtlShorterThanTheRetryScheduleFailsAtStartUp() {
    FleetConfig c =
        FleetConfig.parse(
            "types:\n  t: {handler: simulate, retries: 5, retryDelays: [1h], idempotencyTtl: 2h}\n",
            TaskSettings.DEFAULTS);
    assertThatThrownBy(c::checkIdempotencyTtls)
        .hasMessageContaining("types.t.idempotencyTtl: 2h does not outlast");
  }

  @Test
  void limitsAndCacheKeysAreValidated() {
    assertThatThrownBy(
            () -> FleetConfig.parse("limits:\n  x: {rate: fast}\n", TaskSettings.DEFAULTS))
        .hasMessageContaining("limits.x.rate: must be a rate like 50/s");
    assertThatThrownBy(
            () ->
                FleetConfig.parse(
                    "types:\n  t: {handler: simulate, cache: {key: '${itme}'}}\n",
                    TaskSettings.DEFAULTS))
        .hasMessageContaining("unknown variable ${itme}");
    assertThat(
            FleetConfig.parse("limits:\n  x: {rate: 600/m}\n", TaskSettings.DEFAULTS)
                .limits()
                .get("x")
                .ratePerSecond())
        .contains(10.0);
  }

  /**
   * A tag named many times in one message counts once against its limit. Before, each repetition
   * took another rate token in the same check: one message with 10,000 x "api" under a 1/s limit
   * pushed every later "api" item ~3 hours back, fleet-wide.
   */
  @Test
  void aTagNamedManyTimesCountsOnceAgainstItsLimit() {
    FleetConfig c =
        FleetConfig.parse(
            "limits:\n  api: {rate: 1/s}\n  db: {concurrency: 2}\n", TaskSettings.DEFAULTS);
    java.util.List<String> tags = new java.util.ArrayList<>();
    for (int i = 0; i < 10_000; i++) tags.add(i % 2 == 0 ? "api" : "db");
    tags.add("unlimited");
    assertThat(c.limitsFor(tags)).extracting(TagLimit::tag).containsExactly("api", "db");
  }
}
