#!/usr/bin/env bash
# Stops a redis-server started by scripts/start-redis.sh and removes its directory.
#   stop-redis.sh DIR          the REDIS_DIR it printed
#   stop-redis.sh --env-file FILE   the file given to start-redis.sh --env-file (removed too)
#   stop-redis.sh --keep DIR   stops it and keeps the directory (to restart on its AOF)
set -euo pipefail

. "$(dirname "$0")/lib/stop-common.sh"
stop_args redis REDIS_DIR "$@"

# redis-server exits within a moment of SIGTERM (it writes nothing with `save ""`).
stop_pidfile "$dir/redis.pid" 10
if [ "$keep" = no ]; then
  case "$dir" in */sealhook-redis.*) rm -rf "$dir" ;; *) rm -f "$dir"/redis.pid ;; esac
  [ -z "$env_file" ] || rm -f "$env_file"
fi
echo "stop-redis: stopped ($dir)"
