# Sourced by ./fleet and .ci/run: exports JAVA_HOME pointing at a JDK >= 21, or fails saying how to get one.
_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1; }
_jdk_ok() { [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ "$(_java_major "$1")" -ge 21 ] 2>/dev/null; }
select_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  # Newest first among the usual install places, by the version each JDK reports.
  local d v
  while read -r v d; do
    candidates+=("$d")
  done < <(for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
             [ -x "$d/bin/javac" ] || continue
             v="$(_java_major "$d")"
             [ -n "$v" ] && echo "$v $d"
           done 2>/dev/null | sort -rn -k1,1)
  for c in "${candidates[@]}"; do
    if _jdk_ok "$c"; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "ItemFleet needs a JDK 21 or newer (found none: JAVA_HOME='${JAVA_HOME:-}', and nothing in /usr/lib/jvm)." >&2
  echo "Install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin 21/25) and set JAVA_HOME to it." >&2
  return 1
}
