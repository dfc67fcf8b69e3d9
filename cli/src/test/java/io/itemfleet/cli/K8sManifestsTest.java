package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * deploy/k8s, rendered by {@code kubectl kustomize} and validated offline against the Kubernetes,
 * KEDA and Prometheus Operator schemas (deploy/k8s/validate: kubernetes-models, ajv), then checked
 * against the code: the names it relies on are the ones the fleet uses. No cluster runs here. Skips
 * with a message where kubectl, node or the validator's node_modules are missing (.ci/run installs
 * them).
 */
class K8sManifestsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path VALIDATOR = ROOT.resolve("deploy/k8s/validate");

  private static String rendered;
  private static List<Map<String, Object>> docs;

  @BeforeAll
  static void render() throws Exception {
    assumeTrue(onPath("kubectl"), "kubectl not found: apt-get install kubernetes-client");
    Result r =
        run(null, "kubectl", "kustomize", ROOT.resolve("deploy/k8s/overlays/example").toString());
    assertThat(r.code).as("kubectl kustomize: %s", r.err).isZero();
    rendered = r.out;
    docs = new ArrayList<>();
    for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(rendered)) {
      if (o != null) docs.add(map(o));
    }
  }

  @Test
  void theExampleOverlayIsValidAgainstTheKubernetesKedaAndPrometheusOperatorSchemas()
      throws Exception {
    assumeValidator();
    Result r = run(rendered, "node", VALIDATOR.resolve("validate.mjs").toString());
    assertThat(r.code).as("validator said:\n%s%s", r.out, r.err).isZero();
    assertThat(r.out).contains("12 documents, 0 invalid, 0 of unknown kind");
  }

  @Test
  void theValidatorRejectsAWrongTypeAMissingFieldAndAnUnknownKind() throws Exception {
    assumeValidator();
    String broken =
        rendered
            .replace("terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: sixty")
            .replace("maxReplicaCount: 12", "maxReplicaCount: twelve");
    Result r = run(broken, "node", VALIDATOR.resolve("validate.mjs").toString());
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err)
        .contains(
            "StatefulSet itemfleet-worker (apps/v1) is invalid",
            "/spec/template/spec/terminationGracePeriodSeconds")
        .contains("ScaledObject itemfleet-worker (keda.sh/v1alpha1) is invalid");
    Result unknown =
        run(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "node",
            VALIDATOR.resolve("validate.mjs").toString());
    assertThat(unknown.code).isEqualTo(2);
  }

  /** Pod Security "restricted": non-root, no escalation, no capabilities, the default seccomp. */
  @Test
  void everyPodMeetsPodSecurityRestricted() {
    for (String[] w :
        new String[][] {
          {"StatefulSet", "itemfleet-worker"},
          {"Deployment", "itemfleet-recorder"},
          {"Deployment", "itemfleet-alerts"}
        }) {
      Map<String, Object> workload = doc(w[0], w[1]);
      String pod = w[1];
      assertThat(at(workload, "spec", "template", "spec", "securityContext", "runAsNonRoot"))
          .as(pod)
          .isEqualTo(true);
      assertThat(
              at(workload, "spec", "template", "spec", "securityContext", "seccompProfile", "type"))
          .as(pod)
          .isEqualTo("RuntimeDefault");
      Map<String, Object> c = container(workload);
      assertThat(at(c, "securityContext", "allowPrivilegeEscalation")).as(pod).isEqualTo(false);
      assertThat(at(c, "securityContext", "capabilities", "drop"))
          .as(pod)
          .isEqualTo(List.of("ALL"));
    }
  }

  @Test
  void workersAreAStatefulSetWhosePodNameIsTheStableWorkerId() {
    Map<String, Object> sts = doc("StatefulSet", "itemfleet-worker");
    Map<String, Object> container = container(sts);
    assertThat(container.get("args")).isEqualTo(List.of("worker"));
    Map<String, Object> id = env(container, "FLEET_WORKER_ID");
    assertThat(at(id, "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.name");
  }

  @Test
  void aStoppedWorkerHasLongerThanItsDrainTimeoutAndProbesAskHealth() {
    Map<String, Object> sts = doc("StatefulSet", "itemfleet-worker");
    int grace = (Integer) at(sts, "spec", "template", "spec", "terminationGracePeriodSeconds");
    // --drain-timeout 30 s, the gate's 10 s, the clients' close
    assertThat(grace).isGreaterThanOrEqualTo(30 + 10 + 15);
    Map<String, Object> recorder = container(doc("Deployment", "itemfleet-recorder"));
    for (String probe : List.of("startupProbe", "readinessProbe")) {
      assertThat(at(container(sts), probe, "httpGet", "path")).isEqualTo("/health");
      assertThat(at(recorder, probe, "httpGet", "path")).isEqualTo("/health");
    }
    // /health is 503 while Redis (PostgreSQL) is down and the process waits it out: a liveness
    // probe on it would restart every worker into a crash loop during an outage. /live fails only
    // when spinning handlers hold every lane's carrier.
    assertThat(at(container(sts), "livenessProbe", "httpGet", "path")).isEqualTo("/live");
    assertThat(at(container(sts), "livenessProbe", "httpGet", "port")).isEqualTo("metrics");
    assertThat(at(recorder, "livenessProbe", "httpGet")).isNull();
  }

  @Test
  void theAlerterRunsFleetAlertsWithItsWebhookFromTheSecretAndIsScraped() {
    Map<String, Object> alerts = doc("Deployment", "itemfleet-alerts");
    Map<String, Object> container = container(alerts);
    assertThat(container.get("args")).isEqualTo(List.of("alerts"));
    Map<String, Object> webhook = env(container, "FLEET_ALERTS_WEBHOOK");
    // The Secret the overlay generates (its name carries kustomize's hash), with that key.
    Map<String, Object> secret = doc("Secret", "itemfleet-secrets");
    assertThat(at(webhook, "valueFrom", "secretKeyRef", "name"))
        .isEqualTo(at(secret, "metadata", "name"));
    assertThat(at(webhook, "valueFrom", "secretKeyRef", "key")).isEqualTo("alerts-webhook");
    assertThat(map(secret.get("data"))).containsKey("alerts-webhook");
    assertThat(at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/health");
    assertThat(at(container, "readinessProbe", "httpGet", "port")).isEqualTo("metrics");
    // SIGTERM: the post under way, 10 s for a failing webhook, one more post, then the close.
    assertThat((Integer) at(alerts, "spec", "template", "spec", "terminationGracePeriodSeconds"))
        .isGreaterThan((int) io.itemfleet.alerts.AlertsLoop.STOP_BUDGET.toSeconds());
    assertThat(at(alerts, "spec", "replicas")).isEqualTo(1);
    assertThat(at(doc("PodMonitor", "itemfleet"), "spec", "selector", "matchExpressions"))
        .asString()
        .contains("itemfleet-alerts");
  }

  /**
   * The alert rules and the dashboard select targets by {@code job="worker"}, {@code "recorder"},
   * {@code "alerts"} (as the compose Prometheus names its jobs). The Prometheus Operator sets
   * {@code job} to "namespace/podmonitor" unless the PodMonitor relabels it: before,
   * FleetWorkerDown and the recorder's {@code up} rule could never fire in Kubernetes, and the
   * dashboard showed no worker.
   */
  @Test
  void everyJobTheAlertRulesAndDashboardNameIsOneThePodMonitorGives() throws IOException {
    Map<String, Object> pm = doc("PodMonitor", "itemfleet");
    List<String> apps = new ArrayList<>();
    for (Object e : list(at(pm, "spec", "selector", "matchExpressions"))) {
      for (Object v : list(map(e).get("values"))) apps.add((String) v);
    }
    java.util.Set<String> given = new java.util.TreeSet<>();
    for (Object ep : list(at(pm, "spec", "podMetricsEndpoints"))) {
      java.util.Set<String> here = new java.util.TreeSet<>();
      Object relabelings = map(ep).get("relabelings");
      for (Object r : relabelings == null ? List.of() : list(relabelings)) {
        Map<String, Object> rule = map(r);
        if (!"job".equals(rule.get("targetLabel"))) continue;
        assertThat(rule.get("sourceLabels"))
            .isEqualTo(List.of("__meta_kubernetes_pod_label_app_kubernetes_io_name"));
        java.util.regex.Pattern regex = java.util.regex.Pattern.compile((String) rule.get("regex"));
        for (String app : apps) {
          java.util.regex.Matcher m = regex.matcher(app);
          if (m.matches())
            here.add(m.replaceFirst(((String) rule.get("replacement")).replace("${1}", "$1")));
        }
      }
      assertThat(here).as("endpoint %s relabels job", ep).isNotEmpty();
      given.addAll(here);
    }
    java.util.Set<String> named = new java.util.TreeSet<>();
    for (String f :
        List.of("deploy/prometheus/alerts.yml", "deploy/grafana/dashboards/itemfleet.json")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("job=\\\\?\"([a-z]+)\\\\?\"")
              .matcher(java.nio.file.Files.readString(ROOT.resolve(f)));
      while (m.find()) named.add(m.group(1));
    }
    assertThat(named).contains("worker", "recorder", "alerts");
    assertThat(given).containsAll(named);
  }

  @Test
  void probesAndTheDisruptionBudgetLetTheProcessesWaitOutOutagesThemselves() {
    // The recorder waits up to --start-timeout (5m) for PostgreSQL before it answers /health: a
    // start-up probe giving up sooner (3 min before) restarted it into a crash loop.
    Map<String, Object> recorder = container(doc("Deployment", "itemfleet-recorder"));
    int budget =
        (Integer) at(recorder, "startupProbe", "periodSeconds")
            * (Integer) at(recorder, "startupProbe", "failureThreshold");
    assertThat(budget).isGreaterThanOrEqualTo(5 * 60 + 30);
    // Workers are unready (503 /health) while Redis is down; under the default policy a PDB then
    // refused every eviction, so a Redis outage also blocked node drains.
    assertThat(
            at(
                doc("PodDisruptionBudget", "itemfleet-worker"),
                "spec",
                "unhealthyPodEvictionPolicy"))
        .isEqualTo("AlwaysAllow");
  }

  @Test
  void theRecorderReadsTheWorkersRedisSoTheConsolesReplaySkipsItemsDoneSince() {
    // Before: the recorder had no FLEET_REDIS_URL in Kubernetes (compose gives it one), so a
    // console replay could not see which items had succeeded since their failure and sent them
    // all again (counted DEDUPLICATED: exact, but confusing).
    Map<String, Object> worker =
        env(container(doc("StatefulSet", "itemfleet-worker")), "FLEET_REDIS_URL");
    Map<String, Object> recorder =
        env(container(doc("Deployment", "itemfleet-recorder")), "FLEET_REDIS_URL");
    assertThat(at(recorder, "valueFrom", "secretKeyRef"))
        .isEqualTo(at(worker, "valueFrom", "secretKeyRef"));
  }

  @Test
  void kedaOwnsTheWorkerCountSoTheStatefulSetSetsNone() {
    assertThat(at(doc("StatefulSet", "itemfleet-worker"), "spec", "replicas")).isNull();
  }

  @Test
  void kedaScalesTheWorkersOnTheirGroupsLagUpToThePartitions() {
    Map<String, Object> so = doc("ScaledObject", "itemfleet-worker");
    assertThat(at(so, "spec", "scaleTargetRef", "kind")).isEqualTo("StatefulSet");
    assertThat(at(so, "spec", "scaleTargetRef", "name")).isEqualTo("itemfleet-worker");
    Map<String, Object> config = doc("ConfigMap", "itemfleet-config");
    Map<String, Object> data = map(config.get("data"));
    int partitions = Integer.parseInt(String.valueOf(data.get("FLEET_PARTITIONS")));
    assertThat(at(so, "spec", "maxReplicaCount")).isEqualTo(partitions);
    Map<String, Object> trigger = map(list(at(so, "spec", "triggers")).get(0));
    assertThat(trigger.get("type")).isEqualTo("kafka");
    Map<String, Object> meta = map(trigger.get("metadata"));
    // The group every worker of the fleet joins (WorkerSettings.groupId): <prefix>.workers
    assertThat(meta.get("consumerGroup")).isEqualTo(data.get("FLEET_TOPIC_PREFIX") + ".workers");
    assertThat(meta)
        .as("no topic: the lag of the retry tiers counts too")
        .doesNotContainKey("topic");
    Map<String, Object> endpoints = map(doc("ConfigMap", "itemfleet-endpoints").get("data"));
    assertThat(meta.get("bootstrapServers")).isEqualTo(endpoints.get("kafka-bootstrap"));
    // excludePersistentLag leaves out a partition whose committed offset did not move between two
    // checks: with handlers slower than the polling interval, a real backlog of tasks. A second
    // trigger counts the tasks topic's lag whole (the HPA takes the larger).
    List<Map<String, Object>> tasks =
        list(at(so, "spec", "triggers")).stream()
            .map(t -> map(map(t).get("metadata")))
            .filter(m -> (data.get("FLEET_TOPIC_PREFIX") + ".tasks").equals(m.get("topic")))
            .toList();
    assertThat(tasks).as("a trigger on <prefix>.tasks").hasSize(1);
    assertThat(tasks.get(0).get("consumerGroup")).isEqualTo(meta.get("consumerGroup"));
    assertThat(tasks.get(0).get("bootstrapServers")).isEqualTo(meta.get("bootstrapServers"));
    assertThat(String.valueOf(tasks.get(0).get("excludePersistentLag"))).isNotEqualTo("true");
  }

  @Test
  void theConfigMapsFleetYamlIsOneTheWorkerAccepts() throws IOException {
    String yaml =
        String.valueOf(map(doc("ConfigMap", "itemfleet-config").get("data")).get("fleet.yaml"));
    FleetConfig config = FleetConfig.parse(yaml, TaskSettings.DEFAULTS);
    assertThat(HandlerRegistry.create(config, Map.of())).isNotNull();
    assertThat(yaml).isEqualTo(Files.readString(ROOT.resolve("deploy/fleet.yaml")));
  }

  @Test
  void everyFleetVariableIsOneTheCliReadsAndSecretsComeFromSecrets() throws IOException {
    Set<String> known = new HashSet<>();
    try (Stream<Path> files = Files.walk(ROOT.resolve("cli/src/main"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Matcher m = Pattern.compile("FLEET_[A-Z_]+").matcher(Files.readString(f));
        while (m.find()) known.add(m.group());
      }
    }
    Matcher m = Pattern.compile("FLEET_[A-Z_]+").matcher(rendered);
    Set<String> used = new HashSet<>();
    while (m.find()) used.add(m.group());
    assertThat(used).isNotEmpty();
    assertThat(known).containsAll(used);
    for (String secret : List.of("FLEET_DB_PASSWORD", "FLEET_REDIS_URL", "FLEET_API_TOKEN")) {
      Map<String, Object> e =
          env(
              container(
                  secret.equals("FLEET_REDIS_URL")
                      ? doc("StatefulSet", "itemfleet-worker")
                      : doc("Deployment", "itemfleet-recorder")),
              secret);
      assertThat(at(e, "valueFrom", "secretKeyRef")).as(secret).isNotNull();
      // Required, not optional: a missing key must stop the pod, not open the API silently.
      assertThat(at(e, "valueFrom", "secretKeyRef", "optional")).as(secret).isNotEqualTo(true);
    }
  }

  // ---- helpers ----

  private static void assumeValidator() {
    assumeTrue(onPath("node"), "node not found: apt-get install nodejs npm");
    assumeTrue(
        Files.isDirectory(VALIDATOR.resolve("node_modules/kubernetes-models")),
        "the validator is not installed: (cd deploy/k8s/validate && npm ci)");
  }

  private Map<String, Object> doc(String kind, String namePrefix) {
    return docs.stream()
        .filter(d -> kind.equals(d.get("kind")))
        .filter(d -> String.valueOf(at(d, "metadata", "name")).startsWith(namePrefix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + namePrefix));
  }

  private static Map<String, Object> container(Map<String, Object> workload) {
    return map(list(at(workload, "spec", "template", "spec", "containers")).get(0));
  }

  private static Map<String, Object> env(Map<String, Object> container, String name) {
    return list(container.get("env")).stream()
        .map(K8sManifestsTest::map)
        .filter(e -> name.equals(e.get("name")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }

  private static Object at(Map<String, Object> m, String... path) {
    Object o = m;
    for (String p : path) {
      if (!(o instanceof Map<?, ?> mm)) return null;
      o = mm.get(p);
    }
    return o;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
    }
    return false;
  }

  private record Result(int code, String out, String err) {}

  private static Result run(String stdin, String... command) throws Exception {
    Path out = Files.createTempFile("k8s-out", ".txt");
    Path err = Files.createTempFile("k8s-err", ".txt");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      if (stdin == null)
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      Process p = pb.start();
      if (stdin != null) {
        try (var in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not finish in 120 s");
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
