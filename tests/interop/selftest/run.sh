#!/usr/bin/env bash
# Self-test of the interop receivers (node, python, go) without the sealhook
# server: installs their pinned dependencies if missing, builds the Go example,
# then runs selftest.mjs and docs_snippets.mjs. Usage: tests/interop/selftest/run.sh [node,python,go]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
interop="$(cd "$here/.." && pwd)"
repo="$(cd "$interop/../.." && pwd)"
receivers="${1:-node,python,go}"

if [ ! -d "$interop/node/node_modules/jose" ]; then
  (cd "$interop/node" && npm ci --no-audit --no-fund)
fi
if [ ! -x "$repo/.venv/bin/python" ]; then
  python3 -m venv "$repo/.venv"
fi
if ! "$repo/.venv/bin/python" -c 'import jwcrypto, standardwebhooks' 2>/dev/null; then
  "$repo/.venv/bin/pip" install -q -r "$interop/python/requirements.txt"
fi

go_args=()
if [[ ",$receivers," == *",go,"* ]] && command -v go >/dev/null; then
  gotmp="$(mktemp -d)"
  trap 'rm -rf "$gotmp"' EXIT
  bin="$gotmp/receiver-go"
  (cd "$repo/examples/receivers/go" && go build -o "$bin" .)
  go_args=(--go-bin "$bin")
fi

status=0
node "$here/selftest.mjs" --receivers "$receivers" --python "$repo/.venv/bin/python" "${go_args[@]}" || status=1

# the handlers printed in docs/receivers.md, run as written
snippets="$receivers"
command -v go >/dev/null || snippets="${snippets//go/}"
node "$here/docs_snippets.mjs" --snippets "$snippets" --python "$repo/.venv/bin/python" || status=1
exit $status
