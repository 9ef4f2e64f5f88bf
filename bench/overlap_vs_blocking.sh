#!/usr/bin/env bash
#===- bench/overlap_vs_blocking.sh - what overlapping transfers buys -----===#
#
# Compiles one ring spec twice for the CPU target, with ring-overlap (the
# K/V shift of stage t+1 in flight during stage t's compute) and with
# --no-overlap (every shift blocks), and times both with ring-run --bench
# on RANKS MPI ranks. A benchmark, not a test: numbers go to NOTES.md.
#
# Usage: bench/overlap_vs_blocking.sh BUILD_DIR [RANKS] [SPEC]
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RANKS] [SPEC]}
ranks=${2:-4}
spec=${3:-"heads=8,kv_heads=2,seq=8192,head_dim=128,ring=$ranks,causal=1,dtype=bf16"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun=(mpirun)
mpirun --version 2>/dev/null | grep -q "Open MPI" &&
  mpirun+=(--allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none)

for mode in overlap blocking; do
  flag=""; [ $mode = blocking ] && flag=--no-overlap
  "$build/bin/ringc" --spec "$spec" --target=cpu $flag -o "$out/$mode"
  "${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/$mode" --check --seed 3 | tail -1
  line=$("${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/$mode" --bench --iters 5 | tail -1)
  echo "$mode: $line"
done
echo "spec: $spec; ranks: $ranks; cores: $(nproc)"
