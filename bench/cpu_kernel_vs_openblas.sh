#!/bin/sh
# cpu_kernel_vs_openblas.sh BUILD_DIR [L...] - benchmark (not a test) of the
# generated single-rank CPU attention kernel against an unfused OpenBLAS
# baseline (single-threaded both), f32, B = H = 1, no mask, D in {64, 128}.
# Prints: method L D ms_per_iter GFLOP/s peak_RSS_MiB, then the ratio.
set -eu
BUILD=${1:?usage: $0 BUILD_DIR [L...]}; shift
LS=${*:-"1024 4096 16384"}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
c++ -O2 -std=c++17 -I"$HERE/../runtime/include" -I/usr/include/x86_64-linux-gnu \
  "$HERE/cpu_kernel_vs_openblas.cpp" -o "$WORK/bench" \
  -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lringrt -lopenblas -ldl
export OPENBLAS_NUM_THREADS=1
for D in 64 128; do
  for L in $LS; do
    ITERS=$(( L >= 16384 ? 1 : (L >= 4096 ? 3 : 20) ))
    "$BUILD/bin/ringc" --spec "batch=1,heads=1,seq=$L,head_dim=$D,dtype=f32" \
      --name bench --target=cpu -o "$WORK/a"
    export RINGC_PLAN_HASH=$(sed -n 's/.*"plan_hash": "\([0-9a-f]*\)".*/\1/p' "$WORK/a/manifest.json")
    R=$("$WORK/bench" ringc "$WORK/a" "$L" "$D" "$ITERS")
    O=$("$WORK/bench" openblas "$L" "$D" "$ITERS")
    echo "$R"; echo "$O"
    echo "$R $O" | awk '{printf "ratio L=%s D=%s ringc/openblas GFLOP/s = %.2f\n", $2, $3, $5/$11}'
  done
done
