#!/usr/bin/env bash
# Runs the libFuzzer targets built in build-asan (make fuzz, make test):
#   1. every file under fuzz/regressions/<target>/ once (inputs that once crashed);
#   2. the target for FUZZ_SECONDS from fuzz/corpus/<target>/ (read only), new corpus
#      entries going to a scratch directory.
# Fails on any crash, leak, sanitizer report or timeout, and says where the input is.
# Each target is one single-threaded process, so FUZZ_JOBS of them (default: one a core) run at
# once; each still gets its full FUZZ_SECONDS of wall time, and the report below is printed in
# target order once all have finished.
# Usage: scripts/fuzz.sh [target...]
#   (default: all; FUZZ_SECONDS=30, FUZZ_JOBS=$(nproc), FUZZ_SCRATCH=build-asan/fuzz-out)
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(api_request key_import url_guard jwe_open webhook_verify config_file)
targets=("$@")
((${#targets[@]})) || targets=("${ALL[@]}")
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
bin=build-asan/fuzz
scratch=${FUZZ_SCRATCH:-build-asan/fuzz-out}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Limits per input: a slow input (10 s) or a memory hog (2 GiB) is a finding too.
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048)

for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "fuzz: $bin/fuzz_$t is not built (make fuzz builds it)"; exit 2; }
done

# One target: its regression inputs, then FUZZ_SECONDS of fuzzing. Writes what it has to say to
# $out/report (printed by the caller) and exits non-zero when the target fails.
fuzz_one() {
  local t=$1 exe=$bin/fuzz_$1 out=$scratch/$1
  rm -f "$out/report"
  mkdir -p "$out/corpus" "$out/artifacts"
  local log=$out/fuzz.log dict=() regressions=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")

  mapfile -t regressions < <(find "fuzz/regressions/$t" -type f 2>/dev/null | sort)
  if ((${#regressions[@]})); then
    if ! "$exe" "${limits[@]}" -artifact_prefix="$out/artifacts/" "${regressions[@]}" \
      >"$out/regressions.log" 2>&1; then
      {
        tail -n 40 "$out/regressions.log"
        echo "fuzz: $t: a regression input fails again (log: $out/regressions.log)"
      } >"$out/report"
      return 1
    fi
  fi

  if "$exe" "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "$out/corpus" "fuzz/corpus/$t" >"$log" 2>&1; then
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$t: ${runs:-?} executions in ${seconds} s, ${#regressions[@]} regression inputs" \
      >"$out/summary"
  else
    {
      tail -n 60 "$log"
      echo "fuzz: $t failed; the input is in $out/artifacts/ (log: $log)."
      echo "fuzz: fix it, then keep the input as fuzz/regressions/$t/<name> (fuzz/README.md)."
    } >"$out/report"
    return 1
  fi
}

# At most $jobs targets at once; each one's exit status is kept in $scratch/<target>/status.
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  mkdir -p "$scratch/$t"
  rm -f "$scratch/$t/summary" "$scratch/$t/status"
  (
    rc=0
    fuzz_one "$t" || rc=$?
    echo "$rc" >"$scratch/$t/status"
  ) &
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  out=$scratch/$t
  [ -f "$out/report" ] && cat "$out/report"
  if [ "$(cat "$out/status" 2>/dev/null)" = 0 ]; then
    summary+=("$(cat "$out/summary")")
  else
    failed+=("$t")
  fi
done

((${#summary[@]})) && printf 'fuzz: %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#summary[@]} targets clean"
