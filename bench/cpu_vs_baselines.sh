#!/bin/sh
# cpu_vs_baselines.sh BUILD_DIR [L...] - benchmark (not a test) of one
# rank's CPU attention (the artifact's best variant for this CPU, picked at
# run time) against the unfused baselines a CPU user would pick, side by
# side in one run, single-threaded: OpenBLAS f32 (cblas_sgemm + softmax +
# cblas_sgemm; bench/cpu_kernel_vs_openblas.cpp) and PyTorch (Debian's
# python3-torch, bench/torch_attention.py; optional: its rows read "-" when
# torch is missing). Every L in {default 1024 4096 16384}, D 64 and 128,
# causal and not, f32 and bf16. B = H = 1.
# ringc's time is ring-run's BENCH line (the whole entry per call: kernels,
# merges and host overhead); the baselines' times are the best of a few
# calls after a warm-up. The baselines compute every score also under the
# causal mask (that is what unfused attention does); ringc skips the hidden
# half. Prints per case: ms of each method and baseline_ms / ringc_ms
# (> 1: ringc is faster).
# QUIET=1 runs every measurement in a session whose scheduler autogroup has
# nice -20 (root only), for a machine shared with other builds.
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
  "$HERE/cpu_kernel_vs_openblas.cpp" -o "$WORK/blas" \
  -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lringrt -lopenblas -ldl
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-4s %-4s %-6s %10s %10s %10s %9s %9s\n' L D dtype causal \
  ringc_ms blas_ms torch_ms blas/ringc torch/ringc
for DT in f32 bf16; do
  for CAUSAL in 0 1; do
    for D in 64 128; do
      for L in $LS; do
        ITERS=$(( L >= 16384 ? 2 : (L >= 4096 ? 3 : 10) ))
        "$BUILD/bin/ringc" --spec "batch=1,heads=1,seq=$L,head_dim=$D,dtype=$DT,causal=$CAUSAL" \
          --target=cpu -o "$WORK/a" >/dev/null
        R=$(quiet mpirun --allow-run-as-root -np 1 "$BUILD/bin/ring-run" "$WORK/a" \
              --bench --iters "$ITERS" | sed -n 's/^ring-run: BENCH ms_per_iter=\([0-9.]*\).*/\1/p')
        M=; [ "$CAUSAL" = 1 ] && M=causal
        O=$(quiet "$WORK/blas" openblas "$L" "$D" "$ITERS" $M | cut -d' ' -f4)
        T=$(quiet /usr/bin/python3 "$HERE/torch_attention.py" "$L" "$D" "$DT" "$CAUSAL" "$ITERS" 2>/dev/null |
              cut -d' ' -f6) || T=
        echo "$L $D $DT $CAUSAL $R $O ${T:--}" | awk '{
          t = ($7 == "-") ? "-" : sprintf("%.2f", $7 / $5);
          printf "%-6s %-4s %-4s %-6s %10.2f %10.2f %10s %9.2f %9s\n",
                 $1, $2, $3, $4, $5, $6, $7, $6 / $5, t }'
        rm -rf "$WORK/a"
      done
    done
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
