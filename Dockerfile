# syntax=docker/dockerfile:1
# One image for every fleet command: `worker`, `recorder`, `produce`, `status`, `topics ...`.
#   docker build -t itemfleet .
#   docker run --rm itemfleet --help
# The build stage needs BuildKit (the default of Docker Engine 23+ and `docker compose`) for the
# Maven cache mount, which keeps ~/.m2 between builds.

FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -DskipTests -Dspotless.check.skip=true package -pl cli -am \
 && cp cli/target/fleet.jar /fleet.jar

FROM eclipse-temurin:21-jre
# A fixed, unprivileged user; the fleet needs no writable files of its own.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin fleet
COPY --from=build /fleet.jar /app/fleet.jar
# Handler jars (built against io.itemfleet:itemfleet-handler-api) are loaded from here, each in its
# own class loader. Add yours in an image of your own:
#   FROM itemfleet
#   COPY target/my-handlers.jar /app/handlers/
RUN mkdir -p /app/handlers
ENV FLEET_HANDLERS=/app/handlers
USER fleet
WORKDIR /app
# 9400: worker /metrics and /health; 9401: recorder (FLEET_METRICS_PORT).
EXPOSE 9400 9401
# Heap follows the container's memory limit. JDK 21 needs no other flag (on JDK 23+ kafka-clients
# would want --sun-misc-unsafe-memory-access=allow). More flags: JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/fleet.jar"]
CMD ["--help"]
