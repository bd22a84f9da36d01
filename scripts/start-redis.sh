#!/usr/bin/env bash
# Starts Debian's redis-server for tests and local runs: on 127.0.0.1 only, on a free port, in a
# temporary directory, with the append-only file on. Prints where it is, as shell assignments:
#   REDIS_URL=redis://127.0.0.1:PORT/0
#   REDIS_PORT=PORT  REDIS_PID=PID  REDIS_DIR=DIR
# Options:
#   --appendfsync everysec|always|no  AOF fsync policy (default everysec: at most ~1 s of writes
#                                     lost on a power cut; always: none, an fsync per write)
#   --no-aof                          no persistence at all (a restart loses everything)
#   --dir DIR --port PORT             restart on an existing directory (its AOF) and port
#   --env-file FILE                   also write the assignments to FILE
# scripts/stop-redis.sh DIR (or the env file) stops it and removes the directory.
set -euo pipefail

fsync=everysec aof=yes dir="" port="" env_file=""
while (($#)); do
  case "$1" in
    --appendfsync) fsync="$2"; shift 2 ;;
    --no-aof) aof=no; shift ;;
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    *) echo "start-redis: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$fsync" in everysec|always|no) ;; *) echo "start-redis: bad --appendfsync $fsync" >&2; exit 2 ;; esac
command -v redis-server >/dev/null || { echo "start-redis: redis-server missing (scripts/install-deps.sh)" >&2; exit 1; }

[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/sealhook-redis.XXXXXX")
mkdir -p "$dir"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Loopback only, no password: protected mode has nothing to protect, so it is off (it would
# otherwise refuse clients when no password is set on some setups).
launch() {
  redis-server --bind 127.0.0.1 --port "$1" --protected-mode no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --appendonly "$aof" --appendfsync "$fsync" --save "" --databases 16 >/dev/null
}

answers() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]; }

# Waits up to 10 s for PING to answer; fails early if the server exited (a port taken between
# picking and binding).
await_ping() {
  local p="$1" i
  for ((i = 0; i < 200; i++)); do
    answers "$p" && return 0
    if ((i > 4)) && [ -f "$dir/redis.pid" ] && ! kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
      return 1
    fi
    sleep 0.05
  done
  return 1
}

started=""
for attempt in 1 2 3 4 5; do
  p="${port:-$(free_port)}"
  rm -f "$dir/redis.pid"
  if launch "$p" && await_ping "$p"; then started="$p"; break; fi
  [ -z "$port" ] || break  # a fixed port: no other to try
done
if [ -z "$started" ]; then
  echo "start-redis: redis-server did not start (log: $dir/redis.log)" >&2
  tail -5 "$dir/redis.log" >&2 2>/dev/null || true
  exit 1
fi

out="REDIS_URL=redis://127.0.0.1:$started/0
REDIS_PORT=$started
REDIS_PID=$(cat "$dir/redis.pid")
REDIS_DIR=$dir"
echo "$out"
[ -z "$env_file" ] || printf '%s\n' "$out" | sed 's/^/export /' > "$env_file"
