#!/usr/bin/env bash
# Stops a redis-server started by scripts/start-redis.sh and removes its directory.
#   stop-redis.sh DIR          the REDIS_DIR it printed
#   stop-redis.sh --env-file FILE   the file given to start-redis.sh --env-file (removed too)
#   stop-redis.sh --keep DIR   stops it and keeps the directory (to restart on its AOF)
set -euo pipefail

keep=no dir="" env_file=""
while (($#)); do
  case "$1" in
    --keep) keep=yes; shift ;;
    --env-file) env_file="$2"; shift 2 ;;
    *) dir="$1"; shift ;;
  esac
done
if [ -n "$env_file" ]; then
  [ -f "$env_file" ] || { echo "stop-redis: no $env_file" >&2; exit 0; }
  dir=$(sed -n 's/^export REDIS_DIR=//p' "$env_file")
fi
[ -n "$dir" ] || { echo "usage: stop-redis.sh DIR | --env-file FILE" >&2; exit 2; }

if [ -f "$dir/redis.pid" ]; then
  pid=$(cat "$dir/redis.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # redis-server exits within a moment of SIGTERM (it writes nothing with `save ""`).
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
fi
if [ "$keep" = no ]; then
  case "$dir" in */sealhook-redis.*) rm -rf "$dir" ;; *) rm -f "$dir"/redis.pid ;; esac
  [ -z "$env_file" ] || rm -f "$env_file"
fi
echo "stop-redis: stopped ($dir)"
