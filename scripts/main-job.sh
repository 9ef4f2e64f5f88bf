#!/usr/bin/env bash
#===- scripts/main-job.sh - README command 1 ------------------------------===#
#
# Sets up a fresh machine, builds ringc, and runs the main job: compiles the
# example specs to the deepest phase this build implements and prints a
# short summary.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RINGC_BUILD_DIR:-$root/build}
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
ringc=$build/bin/ringc

deepest=spec
for phase in partitioned scheduled overlapped; do
  if "$ringc" "$root/examples/small_cpu.mlir" --compile-to=$phase >/dev/null 2>&1; then
    deepest=$phase
  fi
done

echo
echo "== ringc examples, compiled to phase '$deepest'"
for f in "$root"/examples/*.mlir; do
  echo "-- $(basename "$f")"
  "$ringc" "$f" --compile-to=$deepest
done
echo "== summary"
for f in "$root"/examples/*.mlir; do
  "$build/bin/ring-opt" "$f" --ring-verify-shardings=emit-plan-remarks -o /dev/null 2>&1 \
    | sed -n 's/.*remark: plan: /  /p' | sed "s|^|$(basename "$f"): |"
done
echo "main job: all $(ls "$root"/examples/*.mlir | wc -l) examples compiled to '$deepest'"
