package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The docker-compose deployment (docker-compose.yml, Dockerfile, deploy/) agrees with the code:
 * what {@code docker compose config} cannot check, since no Docker engine runs in CI.
 */
class DeployFilesTest {
  /** The repository root; tests run in the cli module's directory. */
  private static final Path ROOT = Path.of("..");

  @Test
  void composeDefinesTheWholeStack() throws IOException {
    assertThat(services().keySet())
        .contains("kafka", "redis", "postgres", "recorder", "worker", "prometheus", "grafana");
  }

  @Test
  void workerAndRecorderRunFleetCommandsFromTheRootDockerfile() throws IOException {
    for (String name : List.of("worker", "recorder")) {
      Map<String, Object> service = service(name);
      assertThat(buildContext(service)).isEqualTo(ROOT.resolve("Dockerfile").normalize());
      assertThat(FleetCommand.commandLine().getSubcommands()).containsKey(command(service));
    }
  }

  @Test
  void workerServiceScalesWithoutFixedNamesPortsOrIds() throws IOException {
    Map<String, Object> worker = service("worker");
    assertThat(worker).doesNotContainKey("container_name");
    assertThat(list(worker.get("ports")))
        .allSatisfy(p -> assertThat(publishesHostPort(p)).isFalse());
    assertThat(environment(worker)).doesNotContainKey("FLEET_WORKER_ID");
  }

  @Test
  void theRecorderPublishesItsPageAndApiPort() throws IOException {
    assertThat(list(service("recorder").get("ports")).stream().map(String::valueOf))
        .contains("127.0.0.1:9401:9401");
  }

  /** A demo stack: Redis without a password, PostgreSQL with a known one — this machine only. */
  @Test
  void everyPublishedPortIsOnThisMachineOnly() throws IOException {
    int published = 0;
    for (String name : List.of("kafka", "postgres", "redis", "recorder", "prometheus", "grafana")) {
      for (Object p : list(service(name).get("ports"))) {
        assertThat(String.valueOf(p)).as(name).startsWith("127.0.0.1:");
        published++;
      }
    }
    assertThat(published).isEqualTo(6);
  }

  @Test
  void workersGetRedisAndComposeNoLongerSaysTheyIgnoreIt() throws IOException {
    assertThat(environment(service("worker"))).containsKey("FLEET_REDIS_URL");
    assertThat(Files.readString(ROOT.resolve("docker-compose.yml")))
        .doesNotContain("does not read FLEET_REDIS_URL");
  }

  @Test
  void aStoppedWorkerGetsLongerThanItsDrainTimeout() throws IOException {
    String grace = String.valueOf(service("worker").get("stop_grace_period"));
    assertThat(io.itemfleet.schemas.Durations.parse(grace))
        .isGreaterThan(java.time.Duration.ofSeconds(30));
    assertThat(Files.readString(ROOT.resolve("Dockerfile"))).contains("--stop-timeout");
  }

  /**
   * fleet alerts, stopped while its webhook is slow, may finish the post under way (up to
   * Webhook.DEADLINE), wait STOP_DELIVERY_TIMEOUT, post once more, then commit and close: its stop
   * budget. A grace period of 30 s (and the command's own 30 s wait) cut that short, so what it had
   * delivered was not committed and came again after the restart.
   */
  @Test
  void aStoppedAlerterGetsItsWholeStopBudget() throws IOException {
    String grace = String.valueOf(service("alerts").get("stop_grace_period"));
    assertThat(io.itemfleet.schemas.Durations.parse(grace))
        .isGreaterThan(io.itemfleet.alerts.AlertsLoop.STOP_BUDGET);
  }

  @Test
  void everyFleetVariableInComposeIsOneTheCliReads() throws IOException {
    Set<String> read =
        matches(Pattern.compile("FLEET_[A-Z_]+"), sources(ROOT.resolve("cli/src/main")));
    for (String name : List.of("worker", "recorder")) {
      assertThat(environment(service(name)).keySet())
          .filteredOn(k -> k.startsWith("FLEET_"))
          .isSubsetOf(read);
    }
  }

  @Test
  void workersLoadTheSampleFleetYamlTheyMount() throws IOException {
    Map<String, Object> worker = service("worker");
    Path file = mountedFrom(worker, String.valueOf(environment(worker).get("FLEET_CONFIG")));
    FleetConfig config = FleetConfig.load(file, TaskSettings.DEFAULTS);
    assertThatCode(() -> HandlerRegistry.create(config, Map.of())).doesNotThrowAnyException();
    assertThat(config.types()).containsKey("sim");
  }

  @Test
  void prometheusScrapesThePortEachServiceServesMetricsOn() throws IOException {
    Set<String> scraped = scrapedPorts(yaml(ROOT.resolve("deploy/prometheus/prometheus.yml")));
    assertThat(scraped).contains("9400", "9401", "9402");
    assertThat(environment(service("alerts"))).containsEntry("FLEET_METRICS_PORT", "9402");
    assertThat(environment(service("worker"))).containsEntry("FLEET_METRICS_PORT", "9400");
    assertThat(environment(service("recorder"))).containsEntry("FLEET_METRICS_PORT", "9401");
  }

  /**
   * A service under a compose profile (alerts) runs only when that profile is asked for. Scraped as
   * a static target it was down whenever it did not run, so FleetAlerterDown fired on every plain
   * `docker compose up` and never cleared. Through DNS it is no target at all then.
   */
  @Test
  void servicesUnderAProfileAreScrapedOnlyWhileTheyRun() throws IOException {
    Map<String, Object> prometheus = yaml(ROOT.resolve("deploy/prometheus/prometheus.yml"));
    for (Object job : list(prometheus.get("scrape_configs"))) {
      for (Object sc : list(map(job).get("static_configs"))) {
        for (Object t : list(map(sc).get("targets"))) {
          String host = t.toString().replaceAll(":.*", "");
          if (!services().containsKey(host)) continue; // localhost: Prometheus itself
          assertThat(service(host))
              .as("%s is scraped as a static target but runs only under a profile", host)
              .doesNotContainKey("profiles");
        }
      }
    }
  }

  @Test
  void dashboardQueriesOnlyMetricsTheFleetPublishes() throws IOException {
    List<String> texts = strings(dashboard());
    Set<String> used = new HashSet<>();
    texts.forEach(t -> used.addAll(matches(Pattern.compile("\\bfleet_[a-z_]+"), t)));
    assertThat(used).contains("fleet_items_total", "fleet_item_duration_seconds_bucket");
    assertThat(used).isSubsetOf(publishedMetrics());
  }

  @Test
  void dashboardUsesTheProvisionedDatasource() throws IOException {
    Path file = ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml");
    Object uid = map(list(yaml(file).get("datasources")).get(0)).get("uid");
    Set<String> used = new HashSet<>(dashboard().findValuesAsText("uid"));
    used.remove("itemfleet"); // the dashboard's own uid
    assertThat(used).containsOnly(String.valueOf(uid));
  }

  @Test
  void dockerfileBuildsTheFleetJarAndRunsIt() throws IOException {
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    Matcher jar = Pattern.compile("ENTRYPOINT \\[.*\"-jar\", \"([^\"]+)\"").matcher(dockerfile);
    assertThat(dockerfile).contains("cli/target/fleet.jar");
    assertThat(jar.find()).as("ENTRYPOINT runs java -jar").isTrue();
    assertThat(dockerfile).containsPattern("(?m)^COPY .*" + Pattern.quote(jar.group(1)) + "$");
  }

  /**
   * The JVM as a container's PID 1 reaps only the processes it started: one orphaned inside the
   * container (a handler's command leaving a background process, a killed exec's children) stayed a
   * zombie holding a PID. scripts/container-test.sh counts them in a running worker.
   */
  @Test
  void theImagesPidOneIsTiniWhichReapsOrphans() throws IOException {
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    String runtime = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
    assertThat(runtime).containsPattern("apt-get install [^\\n]*tini");
    assertThat(runtime).contains("ENTRYPOINT [\"/usr/bin/tini\", \"--\", \"java\"");
  }

  // --- reading the files ---

  private static Map<String, Object> services() throws IOException {
    return map(yaml(ROOT.resolve("docker-compose.yml")).get("services"));
  }

  private static Map<String, Object> service(String name) throws IOException {
    return map(services().get(name));
  }

  private static Map<String, Object> yaml(Path file) throws IOException {
    return map(new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file)));
  }

  private static JsonNode dashboard() throws IOException {
    return new ObjectMapper()
        .readTree(ROOT.resolve("deploy/grafana/dashboards/itemfleet.json").toFile());
  }

  /** The Dockerfile a service builds from, relative to the compose file. */
  private static Path buildContext(Map<String, Object> service) {
    Object build = service.get("build");
    if (build instanceof String context)
      return ROOT.resolve(context).resolve("Dockerfile").normalize();
    Map<String, Object> b = map(build);
    Object dockerfile = b.getOrDefault("dockerfile", "Dockerfile");
    return ROOT.resolve(String.valueOf(b.get("context")))
        .resolve(dockerfile.toString())
        .normalize();
  }

  /** The fleet subcommand a service runs: the first word of its compose command. */
  private static String command(Map<String, Object> service) {
    Object c = service.get("command");
    return c instanceof List<?> l ? String.valueOf(l.get(0)) : String.valueOf(c).split(" ")[0];
  }

  /** Environment as a map, from either compose form (mapping or list of NAME=value). */
  private static Map<String, Object> environment(Map<String, Object> service) {
    Object env = service.getOrDefault("environment", Map.of());
    if (env instanceof Map<?, ?>) return map(env);
    Map<String, Object> out = new LinkedHashMap<>();
    for (Object e : list(env)) {
      String[] kv = e.toString().split("=", 2);
      out.put(kv[0], kv.length > 1 ? kv[1] : null);
    }
    return out;
  }

  /** True for "8080:9400" or {published: 8080}; false for a bare container port like "9400". */
  private static boolean publishesHostPort(Object port) {
    return port instanceof Map<?, ?> m ? m.containsKey("published") : port.toString().contains(":");
  }

  /** The host file a service mounts at {@code target} (short volume syntax). */
  private static Path mountedFrom(Map<String, Object> service, String target) {
    for (Object v : list(service.get("volumes"))) {
      String[] parts = v.toString().split(":");
      if (parts.length >= 2 && parts[1].equals(target)) return ROOT.resolve(parts[0]).normalize();
    }
    throw new AssertionError("nothing is mounted at " + target + " in " + service.get("volumes"));
  }

  /** Ports of dns_sd_configs and static_configs targets in a Prometheus config. */
  private static Set<String> scrapedPorts(Map<String, Object> prometheus) {
    Set<String> ports = new HashSet<>();
    for (Object job : list(prometheus.get("scrape_configs"))) {
      for (Object sd : list(map(job).get("dns_sd_configs"))) ports.add(map(sd).get("port") + "");
      for (Object sc : list(map(job).get("static_configs"))) {
        list(map(sc).get("targets")).forEach(t -> ports.add(t.toString().replaceAll(".*:", "")));
      }
    }
    return ports;
  }

  /**
   * Prometheus names of the meters registered in the main sources: counters get _total, timers are
   * the _seconds family with _count, _sum, _bucket and _max, gauges keep their name; dots become
   * underscores. FunctionCounter and FunctionTimer match as Counter and Timer.
   */
  private static Set<String> publishedMetrics() throws IOException {
    Pattern meter = Pattern.compile("(Counter|Timer|Gauge)\\.builder\\(\\s*\"(fleet[._a-z]+)\"");
    Set<String> names = new HashSet<>();
    try (Stream<Path> modules = Files.list(ROOT)) {
      for (Path src :
          modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
        Matcher m = meter.matcher(sources(src));
        while (m.find()) names.addAll(prometheusNames(m.group(1), m.group(2).replace('.', '_')));
      }
    }
    return names;
  }

  private static List<String> prometheusNames(String kind, String base) {
    return switch (kind) {
      case "Counter" -> List.of(base + "_total");
      case "Timer" ->
          Stream.of("", "_count", "_sum", "_bucket", "_max")
              .map(s -> base + "_seconds" + s)
              .toList();
      default -> List.of(base);
    };
  }

  /** The text files (sources, logback.xml, ...) under {@code dir}, concatenated. */
  private static String sources(Path dir) throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f :
          files.filter(p -> p.toString().matches(".*\\.(java|xml|properties)")).toList()) {
        all.append(Files.readString(f));
      }
    }
    return all.toString();
  }

  private static Set<String> matches(Pattern p, String text) {
    Set<String> found = new HashSet<>();
    Matcher m = p.matcher(text);
    while (m.find()) found.add(m.group());
    return found;
  }

  /** Every string value in a JSON tree. */
  private static List<String> strings(JsonNode node) {
    List<String> out = new ArrayList<>();
    if (node.isTextual()) out.add(node.asText());
    node.forEach(child -> out.addAll(strings(child)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  private static List<?> list(Object o) {
    return o == null ? List.of() : (List<?>) o;
  }
}
