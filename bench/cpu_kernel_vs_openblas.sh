#!/bin/sh
# cpu_kernel_vs_openblas.sh BUILD_DIR [L...] - benchmark (not a test) of the
# generated single-rank CPU attention kernel against an unfused OpenBLAS
# baseline (single-threaded both), f32, B = H = 1, no mask, D in {64, 128}.
# The artifact carries the AVX-512 and AVX2 kernel variants; each is timed
# (RINGRT_CPU_VARIANT) next to OpenBLAS in one run, after the single-core
# FMA peak of both ISAs is measured (bench/fma_peak.cpp).
# Prints: method L D ms_per_iter GFLOP/s peak_RSS_MiB, then a summary row
# with the ratios and each variant's share of its ISA's measured peak.
# QUIET=1 runs every measurement in a session whose scheduler autogroup
# has nice -20 (root only), for a machine shared with other builds.
set -eu
BUILD=${1:?usage: $0 BUILD_DIR [L...]}; shift
LS=${*:-"1024 4096 16384"}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
quiet() {
  if [ "${QUIET:-0}" = 1 ]; then
    setsid sh -c 'echo -20 > /proc/self/autogroup; exec "$@"' quiet "$@"
  else
    "$@"
  fi
}
c++ -O2 -std=c++17 -I"$HERE/../runtime/include" -I/usr/include/x86_64-linux-gnu \
  "$HERE/cpu_kernel_vs_openblas.cpp" -o "$WORK/bench" \
  -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lringrt -lopenblas -ldl
c++ -O2 -std=c++17 "$HERE/fma_peak.cpp" -o "$WORK/fma_peak"
export OPENBLAS_NUM_THREADS=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
PEAKS=$(quiet "$WORK/fma_peak" 7)
echo "$PEAKS"
P2=$(echo "$PEAKS" | sed -n 's/.*isa=avx2 gflops=//p')
P512=$(echo "$PEAKS" | sed -n 's/.*isa=avx512 gflops=//p')
for D in 64 128; do
  for L in $LS; do
    ITERS=$(( L >= 16384 ? 1 : (L >= 4096 ? 3 : 20) ))
    "$BUILD/bin/ringc" --spec "batch=1,heads=1,seq=$L,head_dim=$D,dtype=f32" \
      --name bench --target=cpu -o "$WORK/a"
    export RINGC_PLAN_HASH=$(sed -n 's/.*"plan_hash": "\([0-9a-f]*\)".*/\1/p' "$WORK/a/manifest.json")
    R512=$(RINGRT_CPU_VARIANT=avx512 quiet "$WORK/bench" ringc "$WORK/a" "$L" "$D" "$ITERS" | sed 's/^ringc/ringc-avx512/')
    R2=$(RINGRT_CPU_VARIANT=avx2 quiet "$WORK/bench" ringc "$WORK/a" "$L" "$D" "$ITERS" | sed 's/^ringc/ringc-avx2/')
    O=$(quiet "$WORK/bench" openblas "$L" "$D" "$ITERS")
    echo "$R512"; echo "$R2"; echo "$O"
    echo "$R512 $R2 $O" | awk -v p2="$P2" -v p512="$P512" '{printf "summary L=%s D=%s avx512/openblas=%.2f avx2/openblas=%.2f avx512=%.0f%%_of_%s avx2=%.0f%%_of_%s\n", $2, $3, $5/$17, $11/$17, 100*$5/p512, p512, 100*$11/p2, p2}'
  done
done
