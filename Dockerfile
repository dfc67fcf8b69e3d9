# One image for every fleet command: `worker`, `recorder`, `alerts`, `produce`, `status`, ...
#   docker build -t itemfleet .
#   docker run --rm itemfleet --help
# Plain `docker build` works with or without BuildKit (no cache mounts, no `# syntax` line, so
# nothing is fetched but the two base images and Maven Central's artifacts).
# scripts/container-test.sh builds and runs it end to end (see the README, "Docker").

FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
# The build first, then its dependencies, in a layer of their own: a change to the sources alone
# does not download them again.
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY handler-api/pom.xml handler-api/
COPY schemas/pom.xml schemas/
COPY embedded/pom.xml embedded/
COPY test-kit/pom.xml test-kit/
COPY producer/pom.xml producer/
COPY web/pom.xml web/
COPY worker/pom.xml worker/
COPY state-recorder/pom.xml state-recorder/
COPY cli/pom.xml cli/
COPY bench/pom.xml bench/
RUN ./mvnw -B -q -pl cli -am -DskipTests -Dspotless.check.skip=true -Dmaven.main.skip=true \
      package > /dev/null \
 && rm -rf */target
COPY . .
RUN ./mvnw -B -q -pl cli -am -DskipTests -Dspotless.check.skip=true package \
 && cp cli/target/fleet.jar /fleet.jar

FROM eclipse-temurin:21-jre
# A fixed, unprivileged user and group (10001:10001), so that volumes and Kubernetes'
# runAsUser/runAsGroup/fsGroup can name them.
# tini as PID 1: it reaps processes orphaned inside the container (a handler's command that leaves
# a background process behind, the children of a killed exec), which the JVM as PID 1 never did —
# each stayed a zombie holding a PID until the container ended. It passes SIGTERM on to the JVM.
RUN groupadd --gid 10001 fleet \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin fleet \
 && mkdir -p /app/handlers \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends tini > /dev/null \
 && rm -rf /var/lib/apt/lists/*
# The production jar: every fleet command but `fleet local` (whose embedded Kafka, Redis and
# PostgreSQL stay out of the image; see cli/pom.xml).
COPY --from=build /fleet.jar /app/fleet.jar
# Handler jars (built against io.itemfleet:itemfleet-handler-api) are loaded from here, each in its
# own class loader. Add yours in an image of your own:
#   FROM itemfleet
#   COPY target/my-handlers.jar /app/handlers/
ENV FLEET_HANDLERS=/app/handlers
USER 10001:10001
WORKDIR /app
# 9400: worker /metrics and /health; 9401: recorder (page, API, /metrics, /health); 9402: alerts.
EXPOSE 9400 9401 9402
# /health on FLEET_METRICS_PORT, else each command's default port. An orchestrator's own probe
# (compose, Kubernetes) replaces this one.
COPY deploy/docker/healthcheck.sh /app/healthcheck
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 CMD ["/app/healthcheck"]
# SIGTERM drains in-flight items for up to --drain-timeout (30 s) and commits: `docker stop -t 40`
# or `docker run --stop-timeout 40` (Docker's default of 10 s would kill a long drain).
STOPSIGNAL SIGTERM
# Heap follows the container's memory limit. JDK 21 needs no other flag (on JDK 23+ kafka-clients
# would want --sun-misc-unsafe-memory-access=allow). More flags: JAVA_TOOL_OPTIONS.
ENTRYPOINT ["/usr/bin/tini", "--", "java", "-XX:MaxRAMPercentage=75", "-jar", "/app/fleet.jar"]
CMD ["--help"]
