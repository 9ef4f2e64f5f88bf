#!/usr/bin/env bash
#===- bench/fuse_vs_unfused.sh - what the fused ring merge buys ----------===#
#
# Compiles one ring spec twice for the CPU target, with ring-fuse-merge (each
# block kernel merges into the running fp32 (O, LSE) in its epilogue) and
# with --no-fuse-merge (each block writes an fp32 partial that a separate
# merge kernel reads back), checks both against the reference, and times
# both with ring-run --bench on RANKS MPI ranks; it also reports each rank's
# peak resident memory (the fused schedule allocates no partial buffers).
# A benchmark, not a test: numbers go to NOTES.md.
#
# Usage: bench/fuse_vs_unfused.sh BUILD_DIR [RANKS] [SPEC] [ITERS]
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RANKS] [SPEC] [ITERS]}
ranks=${2:-2}
spec=${3:-"heads=8,kv_heads=2,seq=8192,head_dim=128,ring=$ranks,causal=1,dtype=bf16"}
iters=${4:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun=(mpirun)
mpirun --version 2>/dev/null | grep -q "Open MPI" &&
  mpirun+=(--allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none)

for mode in fused unfused; do
  flag=""; [ $mode = unfused ] && flag=--no-fuse-merge
  "$build/bin/ringc" --spec "$spec" --target=cpu $flag -o "$out/$mode"
  "${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/$mode" --check --seed 3 | tail -1
  # Peak RSS (KiB) of each rank during the benchmark.
  line=$("${mpirun[@]}" -np "$ranks" sh -c \
           '/usr/bin/time -f "maxrss_kib=%M" -o "$0.${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" "$@"' \
           "$out/$mode.rss" "$build/bin/ring-run" "$out/$mode" --bench --iters "$iters" | tail -1)
  rss=$(cat "$out"/$mode.rss.* 2>/dev/null | tr '\n' ' ')
  echo "$mode: $line $rss"
done
echo "spec: $spec; ranks: $ranks; cores: $(nproc)"
