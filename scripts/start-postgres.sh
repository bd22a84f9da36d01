#!/usr/bin/env bash
# Starts Debian's PostgreSQL 15 for tests and local runs: on 127.0.0.1 only (its unix socket in
# the directory too), on a free port, in a temporary directory, trust authentication (loopback,
# throwaway data). Prints where it is, as shell assignments:
#   POSTGRES_URL=postgres://sealhook@127.0.0.1:PORT/sealhook
#   POSTGRES_PORT=PORT  POSTGRES_PID=PID  POSTGRES_DIR=DIR
# Options:
#   --fsync on|off          fsync the WAL (default on: a commit survives a power cut; off: faster,
#                           a crash of the machine may lose or corrupt the cluster)
#   --dir DIR --port PORT   restart on an existing directory (its cluster) and port
#   --env-file FILE         also write the assignments to FILE
# PostgreSQL refuses to run as root: run as root, the server runs as the `postgres` OS user (the
# Debian package creates it), which then owns DIR. scripts/stop-postgres.sh DIR (or the env file)
# stops it and removes the directory.
set -euo pipefail

fsync=on dir="" port="" env_file=""
while (($#)); do
  case "$1" in
    --fsync) fsync="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    *) echo "start-postgres: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$fsync" in on|off) ;; *) echo "start-postgres: bad --fsync $fsync (on|off)" >&2; exit 2 ;; esac
bin="${SEALHOOK_PG_BIN:-/usr/lib/postgresql/15/bin}"
[ -x "$bin/postgres" ] || { echo "start-postgres: $bin/postgres missing (scripts/install-deps.sh)" >&2; exit 1; }

[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/sealhook-postgres.XXXXXX")
mkdir -p "$dir"
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "start-postgres: running as root needs the postgres OS user" >&2; exit 1; }
  chown postgres: "$dir"
  as_server=(runuser -u postgres --)
fi
data="$dir/data"

if [ ! -f "$data/PG_VERSION" ]; then
  # -U sealhook: the superuser the URL names, whatever the OS user.
  if ! "${as_server[@]}" "$bin/initdb" -D "$data" -U sealhook --auth=trust -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1; then
    echo "start-postgres: initdb failed (log: $dir/initdb.log)" >&2
    tail -5 "$dir/initdb.log" >&2
    exit 1
  fi
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_ctl -w returns once the server accepts connections, or fails when it exits first (a port
# taken between picking and binding). max_connections leaves room for many stores' pools.
launch() {
  "${as_server[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 -s start -o \
    "-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories='$dir' -c fsync=$fsync -c max_connections=200" \
    >/dev/null 2>&1
}

started=""
for attempt in 1 2 3 4 5; do
  p="${port:-$(free_port)}"
  if launch "$p" && "$bin/pg_isready" -q -h 127.0.0.1 -p "$p" -t 10; then started="$p"; break; fi
  [ -z "$port" ] || break  # a fixed port: no other to try
done
if [ -z "$started" ]; then
  echo "start-postgres: postgres did not start (log: $dir/postgres.log)" >&2
  tail -5 "$dir/postgres.log" >&2 2>/dev/null || true
  exit 1
fi

# The database the URL names, on the first start.
if ! "$bin/psql" -h 127.0.0.1 -p "$started" -U sealhook -d postgres -tAqc \
    "SELECT 1 FROM pg_database WHERE datname = 'sealhook'" | grep -q 1; then
  "$bin/createdb" -h 127.0.0.1 -p "$started" -U sealhook sealhook
fi

out="POSTGRES_URL=postgres://sealhook@127.0.0.1:$started/sealhook
POSTGRES_PORT=$started
POSTGRES_PID=$(head -1 "$data/postmaster.pid")
POSTGRES_DIR=$dir"
echo "$out"
[ -z "$env_file" ] || printf '%s\n' "$out" | sed 's/^/export /' > "$env_file"
