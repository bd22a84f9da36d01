#!/usr/bin/env bash
# Installs everything sealhook needs to build, test and benchmark on Debian 12.
# Idempotent: a second run on a ready machine only checks and returns quickly.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost1.81-all-dev libboost-json1.81-dev libssl-dev libsqlite3-dev sqlite3
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
  wrk curl ca-certificates python3-venv
  iproute2 util-linux
  clang-14 libclang-rt-14-dev  # the asan tree and the libFuzzer targets (fuzz/)
  redis-server libhiredis-dev  # the redis queue (src/queue/redis/) and its tests
  librdkafka-dev  # the Kafka queue's client (librdkafka 2.0.2, C API)
  openjdk-17-jre-headless maven  # the test Kafka broker: its jars fetched once by mvn, run by java
  postgresql libpq-dev  # the postgres store's client (libpq, C API) and its test server (15)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: apt packages missing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test libraries: third-party JOSE and Standard Webhooks implementations (interop tests and the
# receiver kits of examples/receivers/), pytest, and the OpenAPI validator and schemathesis
# (iproute2 and util-linux give the fuzz run its network namespace). Re-installed only when their
# pinned versions change (a stamp holds the hash of the lock files).
lock_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { local stamp=$1; shift; [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(lock_hash "$@")" ]; }
for node_dir in tests/interop/node examples/receivers/node; do
  if ! stamp_ok "$node_dir/node_modules/.stamp" "$node_dir/package-lock.json"; then
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    lock_hash "$node_dir/package-lock.json" > "$node_dir/node_modules/.stamp"
  fi
done
reqs=(tests/interop/python/requirements.txt examples/receivers/python/requirements.txt
      tests/e2e/requirements-otel.txt)
if [ ! -x .venv/bin/python ] || ! stamp_ok .venv/.stamp "${reqs[@]}"; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "${reqs[0]}"
  # The kit's pins carry hashes: checked (pip checks every file of a hashed install).
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r "${reqs[1]}"
  # The OTLP definitions the trace test decodes with (tests/e2e/test_traces.py), hashed too.
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r "${reqs[2]}"
  lock_hash "${reqs[@]}" > .venv/.stamp
fi
# The Go receiver kit's modules (examples/receivers/go/go.sum) into the default module cache, so
# that its test builds it offline; the stamp lives in that cache.
go=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$go" ] || { echo "install-deps: go (1.25 or later) is needed for examples/receivers/go" >&2; exit 1; }
go_stamp="$("$go" env GOMODCACHE)/cache/sealhook-receiver-kit.stamp"
if ! stamp_ok "$go_stamp" examples/receivers/go/go.sum; then
  (cd examples/receivers/go && "$go" mod download)
  mkdir -p "$(dirname "$go_stamp")"
  lock_hash examples/receivers/go/go.sum > "$go_stamp"
fi
# The test Kafka broker's jars (scripts/kafka/pom.xml), fetched once into a cache outside the
# tree; a stamp of the pom's hash makes later runs a check only.
scripts/start-kafka.sh --fetch >/dev/null
echo "install-deps: ready"
