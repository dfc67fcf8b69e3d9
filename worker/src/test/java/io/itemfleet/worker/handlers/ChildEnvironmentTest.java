package io.itemfleet.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * exec commands and process children inherited the worker's whole environment, the Redis URL with
 * its password, the database's and the API token among it: a tool that logs its environment, or
 * crashes with it, leaked them. They are removed; everything else stays.
 */
class ChildEnvironmentTest {
  @Test
  void theFleetsSecretsAreRemovedAndTheRestKept() {
    Map<String, String> env = new HashMap<>();
    for (String s : ChildEnvironment.SECRETS) env.put(s, "SECRET");
    env.put("PATH", "/usr/bin");
    env.put("FLEET_WORKER_ID", "w-1");
    env.put("MY_HANDLER_TOKEN", "mine");
    ChildEnvironment.scrub(env);
    assertThat(env)
        .containsOnlyKeys("PATH", "FLEET_WORKER_ID", "MY_HANDLER_TOKEN")
        .doesNotContainValue("SECRET");
    assertThat(ChildEnvironment.SECRETS)
        .contains("FLEET_REDIS_URL", "FLEET_DB_PASSWORD", "FLEET_API_TOKEN");
  }
}
