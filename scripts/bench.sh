#!/usr/bin/env bash
# Builds the bench module and prints the benchmark table. Arguments go to BenchMain, e.g.
#   scripts/bench.sh produce --items 1000000 --rounds 2
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/jdk.sh"
select_jdk
(cd "$root" && ./mvnw -q -B -DskipTests -Dspotless.check.skip=true install -pl bench -am)
opts=()
[ "$(_java_major "$JAVA_HOME")" -ge 23 ] && opts+=(--sun-misc-unsafe-memory-access=allow)
exec "$JAVA_HOME/bin/java" "${opts[@]}" -Ditemfleet.root="$root" ${BENCH_JAVA_OPTS:--Xmx2g} -jar "$root/bench/target/bench.jar" "$@"
