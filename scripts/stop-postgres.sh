#!/usr/bin/env bash
# Stops a PostgreSQL started by scripts/start-postgres.sh and removes its directory.
#   stop-postgres.sh DIR             the POSTGRES_DIR it printed
#   stop-postgres.sh --env-file FILE the file given to start-postgres.sh --env-file (removed too)
#   stop-postgres.sh --keep DIR      stops it and keeps the directory (to restart on its cluster)
set -euo pipefail

. "$(dirname "$0")/lib/stop-common.sh"
stop_args postgres POSTGRES_DIR "$@"

# SIGINT is PostgreSQL's fast shutdown: clients are disconnected (SIGTERM, the smart one, would
# wait for every open store to close) and a checkpoint is written, so a restart needs no recovery.
stop_pidfile "$dir/data/postmaster.pid" 20 INT
if [ "$keep" = no ]; then
  case "$dir" in */sealhook-postgres.*) rm -rf "$dir" ;; esac
  [ -z "$env_file" ] || rm -f "$env_file"
fi
echo "stop-postgres: stopped ($dir)"
