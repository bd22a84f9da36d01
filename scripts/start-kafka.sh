#!/usr/bin/env bash
# Starts an Apache Kafka broker for tests and local runs: one node in KRaft mode (broker and
# controller in one JVM), on 127.0.0.1 only, on free ports, in a temporary directory. The jars come
# from Maven Central once (scripts/kafka/pom.xml pins the version) into a cache directory.
# Prints where it is, as shell assignments:
#   KAFKA_BROKERS=127.0.0.1:PORT
#   KAFKA_PORT=PORT  KAFKA_CONTROLLER_PORT=PORT  KAFKA_PID=PID  KAFKA_DIR=DIR  KAFKA_VERSION=X.Y.Z
# Options:
#   --env-file FILE                   also write the assignments to FILE
#   --dir DIR --port PORT --controller-port PORT
#                                     restart on an existing directory (its data) and ports
#   --fetch                           only fetch the jars into the cache (scripts/install-deps.sh)
# Environment: SEALHOOK_KAFKA_CACHE (the jar cache; default ~/.cache/sealhook/kafka-VERSION),
#   SEALHOOK_KAFKA_HEAP (default 512m), SEALHOOK_KAFKA_START_TIMEOUT (seconds, default 60).
# scripts/stop-kafka.sh DIR (or the env file) stops it and removes the directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pom="$here/kafka/pom.xml"
dir="" port="" cport="" env_file="" fetch_only=no
while (($#)); do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --controller-port) cport="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    --fetch) fetch_only=yes; shift ;;
    *) echo "start-kafka: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -n "$port$cport" ] && { [ -z "$port" ] || [ -z "$cport" ] || [ -z "$dir" ]; }; then
  echo "start-kafka: --port and --controller-port go together, with --dir" >&2; exit 2
fi
command -v java >/dev/null || { echo "start-kafka: java missing (scripts/install-deps.sh)" >&2; exit 1; }

version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache="${SEALHOOK_KAFKA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sealhook/kafka-$version}"
stamp=$(sha256sum "$pom" | cut -d' ' -f1)

# The jars: kafka_2.13 and its runtime dependencies, copied flat into $cache/libs. A stamp holds
# the pom's hash, so a changed pom fetches again; the copy lands under a temporary name and is
# renamed into place, so two starts at once never see half a cache.
fetch() {
  [ "$(cat "$cache/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  command -v mvn >/dev/null || { echo "start-kafka: mvn missing (scripts/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$(dirname "$cache")"
  local tmp
  tmp=$(mktemp -d "$cache.fetch.XXXXXX")
  echo "start-kafka: fetching Kafka $version jars into $cache" >&2
  if ! mvn -q -B --no-transfer-progress -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
    echo "start-kafka: fetching the jars failed:" >&2
    tail -20 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    exit 1
  fi
  echo "$stamp" > "$tmp/.stamp"
  rm -rf "$cache.old"
  [ ! -e "$cache" ] || mv "$cache" "$cache.old"
  mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"  # another start won the race: keep its copy
  rm -rf "$cache.old"
}
fetch
[ "$fetch_only" = no ] || { echo "start-kafka: Kafka $version jars ready ($cache)"; exit 0; }

[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/sealhook-kafka.XXXXXX")
mkdir -p "$dir"
timeout_s="${SEALHOOK_KAFKA_START_TIMEOUT:-60}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One node: replication factors of 1, no wait before the first rebalance, and no topic created
# by a client's metadata request (sealhook creates its topics). Few threads: the machine is small.
write_config() {
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$2
listeners=PLAINTEXT://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=PLAINTEXT://127.0.0.1:$1
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
EOF
  cat > "$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

# A small heap and G1 with short pauses (as Kafka's own scripts run it), logs in $dir.
java_opts=(-Xms128m "-Xmx${SEALHOOK_KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$dir/log4j.properties" "-Dkafka.logs.dir=$dir"
  -cp "$cache/libs/*")

# Formats the storage once (a random cluster id, base64url of 16 bytes as Kafka writes it; like
# Kafka's own, never one that starts with "-", which the tool would take for an option).
format() {
  [ -f "$dir/data/meta.properties" ] && return 0
  local id
  id=$(python3 -c 'import base64, uuid
while (i := base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()).startswith("-"):
    pass
print(i)')
  java "${java_opts[@]}" kafka.tools.StorageTool format --ignore-formatted -t "$id" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
    echo "start-kafka: formatting the storage failed:" >&2; tail -20 "$dir/format.log" >&2; exit 1; }
}

# In a session of its own with every descriptor away from the caller's (a ctest fixture waits
# on its test's output until every holder closes it).
launch() {
  rm -f "$dir/kafka.pid"
  log_start=$(stat -c %s "$dir/kafka.log" 2>/dev/null || echo 0)  # a restart appends to the log
  setsid bash -c 'echo $$ > "$0/kafka.pid"; exec java "$@" kafka.Kafka "$0/server.properties"' \
    "$dir" "${java_opts[@]}" </dev/null >>"$dir/kafka.out" 2>&1 &
  disown  # no "Killed" notice from this shell when a failed start is ended
}

serves() { python3 - "$1" <<'EOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
except OSError:
    sys.exit(1)
EOF
}

# Waits for the broker to log that it started and to take connections; fails early if the JVM
# exited (a port taken between picking and binding).
await_start() {
  local p="$1" deadline=$((SECONDS + timeout_s)) pid
  while ((SECONDS < deadline)); do
    pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if tail -c +$((log_start + 1)) "$dir/kafka.log" 2>/dev/null | grep -q "Kafka Server started" &&
      serves "$p"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

stop_started() {
  local pid
  pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
}

started=""
for attempt in 1 2 3; do
  p="${port:-$(free_port)}" c="${cport:-$(free_port)}"
  [ "$p" != "$c" ] || continue
  write_config "$p" "$c"
  format
  launch
  if await_start "$p"; then started="$p"; break; fi
  stop_started
  [ -z "$port" ] || break  # fixed ports: no other to try
  grep -q "Address already in use" "$dir/kafka.log" "$dir/kafka.out" 2>/dev/null || break
done
if [ -z "$started" ]; then
  echo "start-kafka: the broker did not start within ${timeout_s}s (log: $dir/kafka.log)" >&2
  tail -20 "$dir/kafka.log" >&2 2>/dev/null || true
  tail -5 "$dir/kafka.out" >&2 2>/dev/null || true
  exit 1
fi

# The version the broker itself reports (its first log lines), not only the pom's.
running=$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$dir/kafka.log" | head -1)
out="KAFKA_BROKERS=127.0.0.1:$started
KAFKA_PORT=$started
KAFKA_CONTROLLER_PORT=$c
KAFKA_PID=$(cat "$dir/kafka.pid")
KAFKA_DIR=$dir
KAFKA_VERSION=${running:-$version}"
echo "$out"
[ -z "$env_file" ] || printf '%s\n' "$out" | sed 's/^/export /' > "$env_file"
