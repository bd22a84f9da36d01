#!/usr/bin/env bash
# Installs everything sealhook needs to build, test and benchmark on Debian 12.
# Idempotent: a second run on a ready machine only checks and returns quickly.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost1.81-all-dev libboost-json1.81-dev libssl-dev libsqlite3-dev sqlite3
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl ca-certificates python3-venv
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

# Interop test libraries (third-party JOSE + Standard Webhooks), kept inside the repo's tools/ dir.
if [ ! -f tests/interop/node/node_modules/.installed ]; then
  (cd tests/interop/node && npm install --no-audit --no-fund --silent && touch node_modules/.installed)
fi
if [ ! -x .venv/bin/python ] || [ ! -f .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt
  touch .venv/.installed
fi
echo "install-deps: ready"
