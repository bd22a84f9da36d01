#!/usr/bin/env bash
# Self-test of the interop receivers (node, python) without the sealhook server:
# installs their pinned dependencies if missing, then runs selftest.mjs.
# Usage: tests/interop/selftest/run.sh [node,python]
# (The receiver kits of examples/receivers/ and the guide's code are tested in
# tests/e2e/test_receiver_kits.py.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
interop="$(cd "$here/.." && pwd)"
repo="$(cd "$interop/../.." && pwd)"
receivers="${1:-node,python}"

if [ ! -d "$interop/node/node_modules/jose" ]; then
  (cd "$interop/node" && npm ci --no-audit --no-fund)
fi
if [ ! -x "$repo/.venv/bin/python" ]; then
  python3 -m venv "$repo/.venv"
fi
if ! "$repo/.venv/bin/python" -c 'import jwcrypto, standardwebhooks' 2>/dev/null; then
  "$repo/.venv/bin/pip" install -q -r "$interop/python/requirements.txt"
fi

node "$here/selftest.mjs" --receivers "$receivers" --python "$repo/.venv/bin/python"
