#!/usr/bin/env bash
#===- bench/backward_vs_forward.sh - CPU backward against forward ---------===#
#
# Compiles one spec with grad=1 for the CPU target, checks it once (forward
# and backward against the float64 references), and times both entries with
# ring-run --bench on RANKS MPI ranks: the backward line (FLOPs 2.5x the
# forward's, FlashAttention's convention) and the forward line. A benchmark,
# not a test: numbers go to NOTES.md.
#
# Usage: bench/backward_vs_forward.sh BUILD_DIR [RANKS] [SPEC]
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RANKS] [SPEC]}
ranks=${2:-1}
spec=${3:-"heads=4,seq=2048,head_dim=128,ring=$ranks,causal=0,dtype=bf16"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun=(mpirun)
mpirun --version 2>/dev/null | grep -q "Open MPI" &&
  mpirun+=(--allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none)

"$build/bin/ringc" --spec "$spec,grad=1" --target=cpu -o "$out/a"
"${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/a" --check --seed 3 | tail -1
"${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/a" --bench --iters 3 | grep BENCH
echo "spec: $spec,grad=1; ranks: $ranks; cores: $(nproc)"
