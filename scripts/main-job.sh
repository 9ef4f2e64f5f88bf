#!/usr/bin/env bash
#===- scripts/main-job.sh - README command 1 ------------------------------===#
#
# Sets up a fresh machine, builds ringc, and runs the main job:
#   1. compiles an example spec for sm_90a (PTX, checked by ptxas) and cpu;
#   2. runs the cpu build on 4 MPI ranks with --check against the float64
#      reference, and with --bench;
#   3. runs the sm_90a build's PTX on 4 MPI ranks under the PTX emulator
#      (--device=emu) with --check (no GPU is needed);
#   4. compiles the same spec with grad (examples/small_cpu_grad.mlir) for
#      cpu and checks forward + backward (dq, dk, dv) on 4 ranks;
#   5. compiles the grad spec for sm_90a and checks forward + backward on 4
#      ranks under the PTX emulator;
#   6. prints a short summary.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RINGC_BUILD_DIR:-$root/build}
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
bin=$build/bin
spec=$root/examples/small_cpu.mlir
grad_spec=$root/examples/small_cpu_grad.mlir
out=$(mktemp -d /tmp/ringc-main-job.XXXXXX)
trap 'rm -rf "$out"' EXIT

mpirun=(mpirun)
if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
  mpirun+=(--allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none)
fi
ranks=4

# run_ring NAME ARGS...: runs ring-run on $ranks ranks, shows its output and
# leaves its last ring-run line in $last. (It logs to a file rather than
# teeing to /dev/stderr, which reopens and clobbers a redirected log.)
run_ring() {
  local log="$out/$1.log"
  shift
  "${mpirun[@]}" -np $ranks "$bin/ring-run" "$@" > "$log" 2>&1 || true
  cat "$log"
  last=$(grep -E '^ring-run: (PASS|FAIL|BENCH)' "$log" | tail -1)
}

echo "== ringc $(basename "$spec") --target=sm_90a"
gpu="not built"
if "$bin/ringc" "$spec" --target=sm_90a -o "$out/sm_90a"; then
  ls "$out/sm_90a"
  gpu="artifact in $(ls "$out/sm_90a" | tr '\n' ' ')"
  if [ -x /usr/local/cuda/bin/ptxas ] && ls "$out"/sm_90a/*.ptx >/dev/null 2>&1; then
    /usr/local/cuda/bin/ptxas -arch=sm_90a -v "$out"/sm_90a/*.ptx -o /dev/null 2>&1 \
      | grep -E "registers|spill" | head -4
    gpu="$gpu; ptxas sm_90a ok"
  fi
else
  gpu="FAILED (see above)"
fi

echo "== ringc $(basename "$spec") --target=cpu"
"$bin/ringc" "$spec" --target=cpu -o "$out/cpu"
ls "$out/cpu"

echo "== mpirun -np $ranks ring-run --check"
run_ring check "$out/cpu" --check --seed 1
check=$last
echo "== mpirun -np $ranks ring-run --bench"
run_ring bench "$out/cpu" --bench --iters 10
bench=$last

emu="not run"
if [ -d "$out/sm_90a" ]; then
  echo "== mpirun -np $ranks ring-run sm_90a --device=emu --check"
  run_ring emu "$out/sm_90a" --device=emu --check --seed 1
  emu=$last
fi

echo "== ringc $(basename "$grad_spec") --target=cpu (backward pass)"
grad="not built"
if "$bin/ringc" "$grad_spec" --target=cpu -o "$out/cpu_grad"; then
  echo "== mpirun -np $ranks ring-run cpu_grad --check (forward, then backward)"
  run_ring grad "$out/cpu_grad" --check --seed 1
  grad=$last
fi

echo "== ringc $(basename "$grad_spec") --target=sm_90a (backward pass, emulated)"
emugrad="not built"
if "$bin/ringc" "$grad_spec" --target=sm_90a -o "$out/sm_90a_grad"; then
  echo "== mpirun -np $ranks ring-run sm_90a_grad --device=emu --check"
  run_ring emugrad "$out/sm_90a_grad" --device=emu --check --seed 1
  emugrad=$last
fi

echo
echo "== summary"
echo "spec:   $(basename "$spec") ($("$bin/ring-opt" "$spec" --ring-verify-shardings=emit-plan-remarks -o /dev/null 2>&1 | sed -n 's/.*remark: plan: //p'))"
echo "sm_90a: $gpu"
echo "cpu:    $check"
echo "emu:    $emu (sm_90a PTX, emulated)"
echo "bench:  $bench"
echo "grad:   $grad (cpu, forward + backward gradients)"
echo "emugrad: $emugrad (sm_90a PTX, forward + backward gradients, emulated)"
case "$check|$emu|$grad|$emugrad" in
  "ring-run: PASS"*"|ring-run: PASS"*"|ring-run: PASS"*"|ring-run: PASS"*) exit 0 ;;
  *) exit 1 ;;
esac
