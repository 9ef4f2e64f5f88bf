#!/bin/sh
# bf16_dot_vs_fma.sh BUILD_DIR [L...] - benchmark (not a test) of the bf16
# CPU attention kernel with AVX512_BF16 dot products (variant avx512bf16:
# vdpbf16ps for Q·Kᵀ) against the same kernel widening bf16 to f32 for
# FMAs (variant avx512), one rank, B = H = 1, no mask, D in {64, 128}.
# Both variants are in one artifact and picked with RINGRT_CPU_VARIANT; the
# time is ring-run's KERNEL line (the host clock around the kernel calls),
# the best of REPS (default 3) interleaved runs. Prints per L and D the
# GFLOP/s of each (4·L²·D FLOPs) and their ratio. Needs a CPU with
# avx512_bf16. QUIET=1 runs each measurement in a scheduler autogroup with
# nice -20 (root only), for a machine shared with other builds.
set -eu
BUILD=${1:?usage: $0 BUILD_DIR [L...]}; shift
LS=${*:-"1024 2048 4096"}
REPS=${REPS:-3}
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
quiet() {
  if [ "${QUIET:-0}" = 1 ]; then
    setsid sh -c 'echo -20 > /proc/self/autogroup; exec "$@"' quiet "$@"
  else
    "$@"
  fi
}
kernel_ms() { # variant artifact iters
  RINGRT_CPU_VARIANT=$1 quiet mpirun --allow-run-as-root -x RINGRT_CPU_VARIANT \
    -np 1 "$BUILD/bin/ring-run" "$2" --bench --iters "$3" |
    sed -n 's/^ring-run: KERNEL ms_per_iter=\([0-9.]*\).*/\1/p'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for D in 64 128; do
  for L in $LS; do
    ITERS=$(( L >= 4096 ? 3 : 10 ))
    "$BUILD/bin/ringc" --spec "batch=1,heads=1,seq=$L,head_dim=$D,dtype=bf16" \
      --target=cpu -o "$WORK/a" >/dev/null
    BEST_DOT=; BEST_FMA=
    for r in $(seq "$REPS"); do
      for v in avx512bf16 avx512; do
        ms=$(kernel_ms "$v" "$WORK/a" "$ITERS")
        if [ "$v" = avx512bf16 ]; then
          BEST_DOT=$(echo "$ms ${BEST_DOT:-$ms}" | awk '{print ($1<$2)?$1:$2}')
        else
          BEST_FMA=$(echo "$ms ${BEST_FMA:-$ms}" | awk '{print ($1<$2)?$1:$2}')
        fi
      done
    done
    echo "$L $D $BEST_DOT $BEST_FMA" | awk '{f=4*$1*$1*$2; printf "L=%s D=%s avx512bf16 %.2f ms %.1f GFLOP/s  avx512 %.2f ms %.1f GFLOP/s  ratio %.2f\n", $1, $2, $3, f/$3/1e6, $4, f/$4/1e6, $4/$3}'
    rm -rf "$WORK/a"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
