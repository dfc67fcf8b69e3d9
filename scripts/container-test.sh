#!/usr/bin/env bash
# End-to-end test of the container image on a real Docker engine:
#   1. builds the image (timed; prints its size and the app layer's),
#   2. starts Kafka, Redis and PostgreSQL with `fleet local --keep-running` on this machine,
#   3. runs a recorder and two workers as containers (host networking), and `produce` as one,
#   4. stops a busy worker with `docker stop` and checks it exits 0 having drained and committed,
#   5. checks exact totals: every item succeeded once, none lost, none counted twice; the image runs
#      as 10001:10001 and its HEALTHCHECK reports the survivors healthy.
# Needs a Docker engine that can run host-networked containers (see the README, "Docker") and
# Maven Central for the image's build stage. Not part of `./mvnw verify`: while a
# Docker engine is up the test kit would pick Testcontainers.
#   scripts/container-test.sh              # ITEMS=20000 by default
#   ITEMS=60000 KEEP=1 scripts/container-test.sh   # KEEP=1 leaves containers and services up
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
docker_bin=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || true)}
if [ -z "$docker_bin" ] || ! "$docker_bin" info >/dev/null 2>&1; then
  echo "container-test: no Docker engine answers (start one; set DOCKER=/path/to/docker for another client)" >&2
  exit 2
fi
docker() { "$docker_bin" "$@"; }
items=${ITEMS:-20000}
image=${IMAGE:-itemfleet:container-test}
run_id=ct$$
prefix="ct-$run_id"
work=$(mktemp -d /tmp/itemfleet-container-test.XXXXXX)
kafka=127.0.0.1:19092 redis=redis://127.0.0.1:16379 db=jdbc:postgresql://127.0.0.1:15432/fleet
rec_port=19701 w1_port=19702 w2_port=19703
local_pid=
step() { printf '\n== %s\n' "$*"; }
fail() { echo "container-test: FAILED: $*" >&2; exit 1; }
cleanup() {
  local code=$?
  if [ "${KEEP:-0}" = 1 ]; then echo "KEEP=1: left $run_id-* containers and fleet local ($local_pid) up"; return; fi
  docker rm -f "$run_id-recorder" "$run_id-w1" "$run_id-w2" >/dev/null 2>&1 || true
  if [ -n "$local_pid" ]; then kill "$local_pid" 2>/dev/null || true; wait "$local_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

step "build $image"
t0=$(date +%s)
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-1} docker build --network host -t "$image" . > "$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; fail "docker build (log above)"; }
build_s=$(( $(date +%s) - t0 ))
size=$(docker image inspect -f '{{.Size}}' "$image")
app=$(docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$image" | awk -F'\t' '/COPY.*fleet.jar/ && !s {s = $1} END {print s}')
echo "built in ${build_s} s; image $((size / 1000000)) MB; fleet.jar layer $app"
user=$(docker image inspect -f '{{.Config.User}}' "$image")
[ "$user" = "10001:10001" ] || fail "image user is '$user', expected 10001:10001"
[ "$(docker run --rm --network host --entrypoint id "$image" -u)" = 10001 ] || fail "uid"
[ "$(docker run --rm --network host --entrypoint id "$image" -g)" = 10001 ] || fail "gid"
docker image inspect -f '{{json .Config.Healthcheck}}' "$image" | grep -q healthcheck || fail "no HEALTHCHECK"

step "services: ./fleet local --keep-running (Kafka $kafka, Redis, PostgreSQL)"
./fleet local --keep-running --items 0 --workers 1 --http-port -1 --data-dir "$work/local" \
  > "$work/local.log" 2>&1 &
local_pid=$!
for _ in $(seq 1 180); do
  grep -q "running; Ctrl-C stops" "$work/local.log" && break
  kill -0 "$local_pid" 2>/dev/null || { cat "$work/local.log"; fail "fleet local ended"; }
  sleep 1
done
grep -q "running; Ctrl-C stops" "$work/local.log" || fail "fleet local did not come up in 180 s"

cat > "$work/fleet.yaml" <<YAML
types:
  sim:
    handler: simulate
    latency: {p50: 100ms, p99: 300ms}
  orphan:
    # leaves a background process behind: it is orphaned inside the container when sh exits
    handler: exec
    command: [sh, -c, "sleep 0.2 & exit 0"]
YAML
chmod a+r "$work/fleet.yaml"
env_common=(-e FLEET_KAFKA_BOOTSTRAP=$kafka -e FLEET_TOPIC_PREFIX=$prefix -e FLEET_PARTITIONS=4)
fleet() { docker run --rm --network host "${env_common[@]}" "$image" "$@"; }

step "topics, recorder and two workers as containers (prefix $prefix)"
fleet topics create >/dev/null
docker run -d --name "$run_id-recorder" --network host "${env_common[@]}" \
  -e FLEET_DB_URL=$db -e FLEET_DB_USER=postgres -e FLEET_METRICS_PORT=$rec_port \
  "$image" recorder >/dev/null
for w in 1 2; do
  port=$([ $w = 1 ] && echo $w1_port || echo $w2_port)
  docker run -d --name "$run_id-w$w" --network host --stop-timeout 40 "${env_common[@]}" \
    -e FLEET_REDIS_URL=$redis -e FLEET_WORKER_ID=w$w -e FLEET_METRICS_PORT=$port \
    -e FLEET_CONCURRENCY=64 -e FLEET_CONFIG=/etc/fleet/fleet.yaml \
    -v "$work/fleet.yaml:/etc/fleet/fleet.yaml:ro" "$image" worker >/dev/null
done
health() { curl -fs -o /dev/null "http://127.0.0.1:$1/health"; }
for _ in $(seq 1 90); do
  health $rec_port && health $w1_port && health $w2_port && break
  sleep 1
done
health $rec_port && health $w1_port && health $w2_port || fail "containers not healthy in 90 s"

step "produce $items items (a container), then stop worker 1 while it is busy"
fleet produce --job "$run_id" --type sim --range "1..$items" > "$work/produce.log" 2>&1 &
produce_pid=$!
busy=0
for _ in $(seq 1 120); do
  busy=$(curl -fs "http://127.0.0.1:$w1_port/metrics" | awk '/^fleet_inflight/ {print int($2)}')
  [ "${busy:-0}" -gt 0 ] && break
  sleep 0.5
done
[ "${busy:-0}" -gt 0 ] || fail "worker 1 never got busy"
sleep 2
busy=$(curl -fs "http://127.0.0.1:$w1_port/metrics" | awk '/^fleet_inflight/ {print int($2)}')
echo "worker 1 has $busy items in flight; docker stop"
t0=$(date +%s%N)
docker stop -t 40 "$run_id-w1" >/dev/null
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
code=$(docker inspect -f '{{.State.ExitCode}}' "$run_id-w1")
docker logs "$run_id-w1" 2>&1 | grep -q "drained and committed" \
  || { docker logs "$run_id-w1" 2>&1 | tail -40; fail "worker 1 (exit code $code) did not drain and commit (its log's end above)"; }
[ "$code" = 0 ] || fail "worker 1 exited $code after docker stop"
echo "worker 1 stopped in ${stop_ms} ms, exit code 0, drained and committed"

wait "$produce_pid" || { cat "$work/produce.log"; fail "produce failed"; }
grep -v WARNING "$work/produce.log"

step "wait for the job to complete"
status() { curl -fsS "http://127.0.0.1:$rec_port/api/jobs/$run_id"; }
for _ in $(seq 1 240); do
  s=$(status || true)
  [ -n "$s" ] && python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j.get("done") else 1)' "$s" && break
  sleep 1
done
s=$(status) || fail "recorder API did not answer"
echo "$s"
python3 - "$s" "$items" <<'PY' || fail "totals are not exact"
import json, sys
j, n = json.loads(sys.argv[1]), int(sys.argv[2])
want = {"total": n, "succeeded": n, "failed": 0, "deduplicated": 0, "poison": 0, "cached": 0, "finished": n}
bad = {k: (j.get(k), v) for k, v in want.items() if j.get(k) != v}
print("exact totals" if not bad else f"mismatch (got, want): {bad}")
sys.exit(1 if bad or not j.get("done") else 0)
PY
for _ in $(seq 1 30); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$run_id-w2")" = healthy ] && break
  sleep 2
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$run_id-w2")" = healthy ] || fail "HEALTHCHECK: worker 2 not healthy"
[ "$(docker inspect -f '{{.State.Health.Status}}' "$run_id-recorder")" = healthy ] || fail "HEALTHCHECK: recorder not healthy"
step "processes orphaned in a container are reaped (tini is PID 1)"
pid1=$(docker exec "$run_id-w2" cat /proc/1/comm)
[ "$pid1" = tini ] || fail "PID 1 in the worker's container is '$pid1', not tini"
fleet produce --job "$run_id-orphans" --type orphan --range "1..20" > "$work/orphans.log" 2>&1 \
  || { cat "$work/orphans.log"; fail "produce (orphans) failed"; }
for _ in $(seq 1 120); do
  s=$(curl -fsS "http://127.0.0.1:$rec_port/api/jobs/$run_id-orphans" || true)
  [ -n "$s" ] && python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j.get("done") and j.get("succeeded") == 20 else 1)' "$s" && break
  sleep 1
done
sleep 2 # the last background sleeps end
zombies=$(docker exec "$run_id-w2" sh -c 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
echo "20 exec items that each left a background process: $zombies zombies in the worker's container"
[ "$zombies" = 0 ] || fail "$zombies zombie processes in the worker's container (PID 1 does not reap)"

step "PASSED: built in ${build_s} s, image $((size / 1000000)) MB (fleet.jar layer $app); $items items exact; docker stop drained in ${stop_ms} ms, exit 0"
