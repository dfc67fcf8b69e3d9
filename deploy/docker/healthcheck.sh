#!/usr/bin/env bash
# The image's HEALTHCHECK: 0 when the fleet process in this container answers 200 on /health.
# It asks FLEET_METRICS_PORT when set, else each command's default port (worker 9400, recorder
# 9401, alerts 9402). bash's /dev/tcp, because the JRE image has no curl.
ports=${FLEET_METRICS_PORT:-9400 9401 9402}
case "$ports" in
  -1) echo "FLEET_METRICS_PORT=-1: /health is disabled; nothing to check"; exit 0 ;;
  0) echo "FLEET_METRICS_PORT=0: a random port; nothing to check here"; exit 0 ;;
esac
for port in $ports; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port" \
      && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
      && head -n1 <&3 | grep -q ' 200 ') 2>/dev/null; then
    exit 0
  fi
done
echo "no 200 from /health on port(s) $ports" >&2
exit 1
