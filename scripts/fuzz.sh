#!/usr/bin/env bash
#===- scripts/fuzz.sh - run the libFuzzer targets for N seconds ---------===#
#
# Usage: scripts/fuzz.sh [N_SECONDS]   (default 1800, split between targets)
#
# Runs ringc-fuzz-spec and ringc-fuzz-pipeline (ASan + UBSan) one after the
# other, each for half of N seconds, on a scratch copy of the checked-in
# corpus (fuzz/corpus/). A crash, a sanitizer report, a leak or an input
# slower than 30 s stops a target; libFuzzer writes the input as
# crash-*/timeout-*/leak-* into OUT (default build/fuzz-out), where it
# belongs in fuzz/corpus/ as a regression input once fixed. The last lines
# summarise inputs run and crashes per target; exit 0 only when none crashed.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RINGC_BUILD_DIR:-$root/build}
secs=${1:-1800}
out=${FUZZ_OUT:-$build/fuzz-out}
bin=$build/fuzz/bin
for t in spec pipeline; do
  if [ ! -x "$bin/ringc-fuzz-$t" ]; then
    echo "fuzz: $bin/ringc-fuzz-$t not built (needs clang-22 and libclang-rt-22-dev; run scripts/setup.sh and scripts/build.sh)" >&2
    exit 2
  fi
done
mkdir -p "$out"
half=$(( secs / 2 ))
status=0
summary=()
for t in spec pipeline; do
  work=$(mktemp -d "$out/corpus-$t.XXXXXX")
  log=$out/$t.log
  start=$(date +%s)
  ( cd "$out" && "$bin/ringc-fuzz-$t" "$work" "$root/fuzz/corpus/$t" \
      -dict="$root/fuzz/$t.dict" -max_total_time="$half" -timeout=30 \
      -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1 ) >"$log" 2>&1
  rc=$?
  secs_run=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(ls "$out" | grep -c -E '^(crash|timeout|leak|oom|slow-unit)-' || true)
  [ "$rc" -ne 0 ] && status=1
  summary+=("fuzz: $t: ${runs:-?} inputs in ${secs_run} s, exit $rc, crash/timeout/leak files in $out: $crashes")
  rm -rf "$work"
done
printf '%s\n' "${summary[@]}"
exit $status
