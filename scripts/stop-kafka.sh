#!/usr/bin/env bash
# Stops a broker started by scripts/start-kafka.sh and removes its directory.
#   stop-kafka.sh DIR               the KAFKA_DIR it printed
#   stop-kafka.sh --env-file FILE   the file given to start-kafka.sh --env-file (removed too)
#   stop-kafka.sh --keep DIR        stops it cleanly and keeps the directory (to restart on its
#                                   data: start-kafka.sh --dir DIR --port P --controller-port C)
set -euo pipefail

. "$(dirname "$0")/lib/stop-common.sh"
stop_args kafka KAFKA_DIR "$@"

# Data kept: SIGTERM, the broker's clean shutdown (it flushes and closes its logs; up to 30 s).
# Data removed: nothing to keep clean, so SIGKILL at once.
if [ "$keep" = yes ]; then stop_pidfile "$dir/kafka.pid" 30; else stop_pidfile "$dir/kafka.pid" 0; fi
if [ "$keep" = no ]; then
  case "$dir" in */sealhook-kafka.*) rm -rf "$dir" ;; *) rm -f "$dir"/kafka.pid ;; esac
  [ -z "$env_file" ] || rm -f "$env_file"
fi
echo "stop-kafka: stopped ($dir)"
