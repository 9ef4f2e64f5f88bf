#!/usr/bin/env bash
#===- bench/fuse_vs_unfused.sh - what the fused ring merge buys ----------===#
#
# Compiles one ring spec twice for the CPU target, with ring-fuse-merge (each
# block kernel merges into the running fp32 (O, LSE) in its epilogue) and
# with --no-fuse-merge (each block writes an fp32 partial that a separate
# merge kernel reads back, into partial buffers allocated per call), checks
# both against the reference, then times them with ring-run --bench on
# RANKS MPI ranks in ROUNDS alternating rounds (so that a shared machine's
# load hits both alike). Per round and mode it prints ms/iter and, summed
# over the ranks, user and system CPU seconds and the largest peak RSS;
# then the medians. A benchmark, not a test: numbers go to NOTES.md.
#
# Usage: bench/fuse_vs_unfused.sh BUILD_DIR [RANKS] [SPEC] [ITERS] [ROUNDS]
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RANKS] [SPEC] [ITERS] [ROUNDS]}
ranks=${2:-2}
spec=${3:-"heads=8,kv_heads=2,seq=1024,head_dim=128,ring=$ranks,causal=1,dtype=bf16"}
iters=${4:-100}
rounds=${5:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun=(mpirun)
mpirun --version 2>/dev/null | grep -q "Open MPI" &&
  mpirun+=(--allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none)

for mode in fused unfused; do
  flag=""; [ $mode = unfused ] && flag=--no-fuse-merge
  "$build/bin/ringc" --spec "$spec" --target=cpu $flag -o "$out/$mode"
  echo "$mode check: $("${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/$mode" --check --seed 3 | tail -1)"
done

for round in $(seq "$rounds"); do
  for mode in fused unfused; do
    rm -f "$out"/time.*
    line=$("${mpirun[@]}" -np "$ranks" sh -c \
             '/usr/bin/time -f "%U %S %M" -o "$0.${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" "$@"' \
             "$out/time" "$build/bin/ring-run" "$out/$mode" --bench --iters "$iters" | tail -1)
    ms=$(echo "$line" | sed -n 's/.*ms_per_iter=\([0-9.]*\).*/\1/p')
    cpu=$(cat "$out"/time.* | awk '{u += $1; s += $2; if ($3 > m) m = $3}
                                   END {printf "user_s=%.2f sys_s=%.2f maxrss_kib=%d", u, s, m}')
    echo "round $round $mode ms_per_iter=$ms $cpu" | tee -a "$out/rounds"
  done
done

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for mode in fused unfused; do
  printf "median %s:" "$mode"
  for key in ms_per_iter user_s sys_s maxrss_kib; do
    printf " %s=%s" "$key" "$(grep " $mode " "$out/rounds" | sed -n "s/.* $key=\([0-9.]*\).*/\1/p" | median)"
  done
  echo
done
echo "spec: $spec; ranks: $ranks; iters: $iters; rounds: $rounds; cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
