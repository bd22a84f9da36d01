# Sourced by scripts/stop-redis.sh, stop-kafka.sh and stop-postgres.sh: their shared arguments
# and stop.
#   DIR                 the directory the start script printed
#   --env-file FILE     the file given to the start script's --env-file (removed after a stop)
#   --keep              stop and keep the directory (to restart on its data)
# Sets keep (yes|no), dir and env_file; $1 is the service's name, $2 the env file's key for the
# directory (REDIS_DIR, KAFKA_DIR, POSTGRES_DIR). Exits 0 when the env file is gone (nothing was
# started).
stop_args() {
  local name="$1" key="$2"
  shift 2
  keep=no dir="" env_file=""
  while (($#)); do
    case "$1" in
      --keep) keep=yes; shift ;;
      --env-file) env_file="$2"; shift 2 ;;
      *) dir="$1"; shift ;;
    esac
  done
  if [ -n "$env_file" ]; then
    [ -f "$env_file" ] || { echo "stop-$name: no $env_file" >&2; exit 0; }
    dir=$(sed -n "s/^export $key=//p" "$env_file")
  fi
  [ -n "$dir" ] || { echo "usage: stop-$name.sh [--keep] DIR | --env-file FILE" >&2; exit 2; }
}

# Stops the process whose id is on the first line of pid file $1: signal $3 (default TERM) and
# up to $2 seconds for it to exit (0: no signal), then SIGKILL; returns once it is gone. Nothing
# to do without the file.
stop_pidfile() {
  local file="$1" grace="$2" signal="${3:-TERM}" pid i
  [ -f "$file" ] || return 0
  pid=$(head -1 "$file")
  kill -0 "$pid" 2>/dev/null || return 0
  if ((grace > 0)); then
    kill -"$signal" "$pid"
    for ((i = 0; i < grace * 20; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  fi
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
}
