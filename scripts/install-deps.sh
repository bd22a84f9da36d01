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

# Test libraries: third-party JOSE and Standard Webhooks implementations (interop tests),
# pytest, and the OpenAPI validator and schemathesis (iproute2 and util-linux give the fuzz run its
# network namespace). Re-installed only when their pinned versions change (a stamp holds the lock's hash).
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$(sha256sum "$2" | cut -d' ' -f1)" ]; }
node_dir=tests/interop/node
if ! stamp_ok "$node_dir/node_modules/.stamp" "$node_dir/package-lock.json"; then
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1 > "$node_dir/node_modules/.stamp"
fi
req=tests/interop/python/requirements.txt
if [ ! -x .venv/bin/python ] || ! stamp_ok .venv/.stamp "$req"; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
  sha256sum "$req" | cut -d' ' -f1 > .venv/.stamp
fi
# The test Kafka broker's jars (scripts/kafka/pom.xml), fetched once into a cache outside the
# tree; a stamp of the pom's hash makes later runs a check only.
scripts/start-kafka.sh --fetch >/dev/null
echo "install-deps: ready"
