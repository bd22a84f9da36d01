#!/usr/bin/env bash
# Runs the libFuzzer targets built in build-asan (make fuzz, make test):
#   1. every file under fuzz/regressions/<target>/ once (inputs that once crashed);
#   2. the target for FUZZ_SECONDS from fuzz/corpus/<target>/ (read only), new corpus
#      entries going to a scratch directory.
# Fails on any crash, leak, sanitizer report or timeout, and says where the input is.
# Usage: scripts/fuzz.sh [target...]   (default: all; FUZZ_SECONDS=30, FUZZ_SCRATCH=build-asan/fuzz-out)
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(api_request key_import url_guard jwe_open webhook_verify config_file)
targets=("$@")
((${#targets[@]})) || targets=("${ALL[@]}")
seconds=${FUZZ_SECONDS:-30}
bin=build-asan/fuzz
scratch=${FUZZ_SCRATCH:-build-asan/fuzz-out}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Limits per input: a slow input (10 s) or a memory hog (2 GiB) is a finding too.
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048)

failed=()
summary=()
for t in "${targets[@]}"; do
  exe=$bin/fuzz_$t
  [ -x "$exe" ] || { echo "fuzz: $exe is not built (make fuzz builds it)"; exit 2; }
  out=$scratch/$t
  mkdir -p "$out/corpus" "$out/artifacts"
  log=$out/fuzz.log
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")

  mapfile -t regressions < <(find "fuzz/regressions/$t" -type f 2>/dev/null | sort)
  if ((${#regressions[@]})); then
    if ! "$exe" "${limits[@]}" -artifact_prefix="$out/artifacts/" "${regressions[@]}" \
      >"$out/regressions.log" 2>&1; then
      tail -n 40 "$out/regressions.log"
      echo "fuzz: $t: a regression input fails again (log: $out/regressions.log)"
      failed+=("$t")
      continue
    fi
  fi

  if "$exe" "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "$out/corpus" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    summary+=("$t: ${runs:-?} executions in ${seconds} s, ${#regressions[@]} regression inputs")
  else
    tail -n 60 "$log"
    echo "fuzz: $t failed; the input is in $out/artifacts/ (log: $log)."
    echo "fuzz: fix it, then keep the input as fuzz/regressions/$t/<name> (fuzz/README.md)."
    failed+=("$t")
  fi
done

printf 'fuzz: %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#summary[@]} targets clean"
