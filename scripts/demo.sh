#!/usr/bin/env bash
# The original prototype's demo, done for real and watchable: `serve` + a receiver that fails
# 20 % of requests on purpose, a tenant onboarded through the API only, 100 encrypted events,
# progress as they arrive (retries visible), then the tally.
#   QUEUE=redis WORKERS=2 scripts/demo.sh   the same on a Redis queue (a redis-server started in
#                                           the demo directory), with 2 `sealhook worker`s beside
#                                           serve sharing its store and queue
#   QUEUE=kafka WORKERS=2 scripts/demo.sh   the same on a Kafka queue (a broker started by
#                                           scripts/start-kafka.sh, stopped at the end)
# Also: BIN (the binary), DIR (demo-data), API_PORT, RX_PORT, METRICS_PORT (the first worker's;
# the next ones count up), N (events), TIMEOUT_S (how long to wait for them, 120).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./build/sealhook}
API_PORT=${API_PORT:-4242}
RX_PORT=${RX_PORT:-9099}
METRICS_PORT=${METRICS_PORT:-4243}
N=${N:-100}
QUEUE=${QUEUE:-sqlite}
WORKERS=${WORKERS:-0}
DIR=${DIR:-demo-data}
case "$QUEUE" in sqlite|redis|kafka) ;; *) echo "demo: QUEUE is sqlite, redis or kafka" >&2; exit 2 ;; esac
if [ "$WORKERS" != 0 ] && [ "$QUEUE" = sqlite ]; then
  echo "demo: WORKERS needs QUEUE=redis or kafka (workers share the queue)" >&2; exit 2
fi
rm -rf "$DIR" && mkdir -p "$DIR"
ADMIN="demo-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
SERVE_PID="" RX_PID="" WORKER_PIDS=()
cleanup() {
  kill "$SERVE_PID" "$RX_PID" "${WORKER_PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  [ "$QUEUE" != redis ] || scripts/stop-redis.sh --env-file "$DIR/redis.env" >/dev/null 2>&1 || true
  [ "$QUEUE" != kafka ] || scripts/stop-kafka.sh --env-file "$DIR/kafka.env" >/dev/null 2>&1 || true
}
trap cleanup EXIT
QUEUE_ARGS=()
if [ "$QUEUE" = redis ]; then
  echo "== provider: start redis-server (loopback, append-only file)"
  scripts/start-redis.sh --dir "$DIR/redis" --env-file "$DIR/redis.env" >/dev/null
  QUEUE_ARGS=(--queue redis --redis "$(. "$DIR/redis.env" && echo "$REDIS_URL")")
fi
if [ "$QUEUE" = kafka ]; then
  echo "== provider: start a Kafka broker (KRaft, loopback)"
  scripts/start-kafka.sh --env-file "$DIR/kafka.env" >/dev/null
  QUEUE_ARGS=(--queue kafka --kafka-brokers "$(. "$DIR/kafka.env" && echo "$KAFKA_BROKERS")")
fi

echo "== customer: generate a key pair"
$BIN keygen --type rsa --out "$DIR/keys"
echo "== customer: start the receiver (fails 20 % of requests on purpose)"
$BIN receive --listen "127.0.0.1:$RX_PORT" --key "$DIR/keys/private.jwk" \
  --secret-file "$DIR/secret" --fail-rate 0.2 > "$DIR/received.jsonl" 2> "$DIR/receiver.log" &
RX_PID=$!
COMMON=(--store "sqlite:$DIR/store" --allow-private-networks --retry-base-ms 250
        --retry-max-delay-ms 2000 "${QUEUE_ARGS[@]}")
echo "== provider: start sealhook serve (durable $QUEUE queue, SQLite store)"
$BIN serve --listen "127.0.0.1:$API_PORT" --admin-token "$ADMIN" "${COMMON[@]}" \
  > "$DIR/serve.log" 2>&1 &
SERVE_PID=$!
BASE="http://127.0.0.1:$API_PORT"
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
OPS=("$BASE")  # every process's /metrics, summed in the tally
for ((w = 0; w < WORKERS; w++)); do
  port=$((METRICS_PORT + w))
  echo "== provider: start sealhook worker $((w + 1)) (delivery only; metrics on 127.0.0.1:$port)"
  $BIN worker --metrics-listen "127.0.0.1:$port" "${COMMON[@]}" > "$DIR/worker$w.log" 2>&1 &
  WORKER_PIDS+=($!)
  OPS+=("http://127.0.0.1:$port")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done

call() { curl -sS -X "$1" "$BASE$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}; }
echo "== provider: create tenant 'acme' (its API key is shown once)"
TENANT=$(call POST /v1/tenants "$ADMIN" '{"name":"acme"}')
API_KEY=$(echo "$TENANT" | json '["api_key"]'); TENANT_ID=$(echo "$TENANT" | json '["id"]')
echo "   tenant $TENANT_ID"
echo "== customer: upload the public key, subscribe, register the endpoint"
call POST /v1/keys "$API_KEY" "{\"public_key\": $(cat "$DIR/keys/public.jwk")}"; echo
call PUT /v1/subscriptions "$API_KEY" '{"event_types":["order.*"]}'; echo
EP=$(call POST /v1/endpoints "$API_KEY" "{\"url\":\"http://127.0.0.1:$RX_PORT/webhooks\",\"max_attempts\":20}")
echo "$EP" | json '["secret"]' > "$DIR/secret"
echo "   endpoint $(echo "$EP" | json '["id"]') (secret handed to the receiver)"

echo "== provider: publish $N events"
for i in $(seq 1 "$N"); do
  call POST /v1/events "$ADMIN" "{\"type\":\"order.created\",\"payload\":{\"order\":$i,\"total\":$((i * 7)).5}}" >/dev/null
done
# A counter summed over serve and the workers.
metric() {
  local base
  for base in "${OPS[@]}"; do curl -s "$base/metrics"; done | awk -v m="$1" '$1==m {s += $2} END {print s + 0}'
}
deadline=$((SECONDS + ${TIMEOUT_S:-120}))
while :; do
  got=$(wc -l < "$DIR/received.jsonl")
  retried=$(metric 'sealhook_deliveries_total{outcome="retried"}')
  printf '\r   received %3d/%d decrypted events, %s retries so far' "$got" "$N" "${retried:-0}"
  [ "$got" -ge "$N" ] && break
  if ((SECONDS > deadline)); then
    echo; echo "demo: gave up after ${TIMEOUT_S:-120} s (logs in $DIR)" >&2; exit 1
  fi
  sleep 0.3
done
echo
echo "== last event as the customer sees it:"
tail -n 1 "$DIR/received.jsonl"
echo "== tally"
sleep 0.3
kill -TERM "$RX_PID"; wait "$RX_PID" 2>/dev/null || true
tail -n 1 "$DIR/receiver.log"
if ((WORKERS > 0)); then
  by=$(for base in "${OPS[@]}"; do curl -s "$base/metrics" | awk '$1=="sealhook_deliveries_total{outcome=\"delivered\"}" {print $2 + 0}'; done | paste -sd/)
  echo "   delivered by serve/worker 1/...: $by"
fi
echo "   delivered: $(metric 'sealhook_deliveries_total{outcome="delivered"}'), retries: $(metric 'sealhook_deliveries_total{outcome="retried"}'), dead: $(metric 'sealhook_deliveries_total{outcome="dead"}')"
echo "   unique events decrypted: $(python3 -c "import json; print(len({json.loads(l)['event']['id'] for l in open('$DIR/received.jsonl')}))")/$N"
