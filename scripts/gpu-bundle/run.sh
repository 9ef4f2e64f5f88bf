#!/usr/bin/env bash
#===- run.sh - the L5 check and benchmark of a ringc GPU bundle ------------===#
#
# Usage: bash run.sh [--device=cuda|emu] [--small] [--results DIR]
#
# Runs, from this bundle alone (scripts/gpu-bundle.sh built it; no LLVM, no
# package install, its own relocated OpenMPI):
#   1. the machine: nvidia-smi, the driver, the GPU name;
#   2. a self-check: ldd of every binary resolves inside the bundle or to
#      the C/C++ runtime;
#   3. the L5 correctness matrix of test/Execution/gpu-cuda*.test (cases.tsv):
#      ranks share one GPU with --comm=mpi; NCCL cases where there are as
#      many GPUs as ranks; sm_90a cases on a Hopper;
#   4. compute-sanitizer memcheck and racecheck of one small case per kernel
#      kind, where compute-sanitizer is installed;
#   5. the single-GPU kernel benchmark (P = 1) beside PyTorch's
#      scaled_dot_product_attention (flash and cuDNN backends), and one ring
#      case (P = 2 sharing the GPU) against P = 1;
# then writes DIR/results.json and DIR/results.md (default: results/ in the
# bundle; every case's output in DIR/logs.tar.gz), prints the table, and
# ends with `L5: N passed, N failed`.
#
# Every case has a time limit and a failure does not stop the rest. Each
# stage has a time budget, so that the whole run stays under 8 minutes; a
# case the budget leaves no time for is reported as failed ("not run").
# --device=emu runs the GPU artifacts in ringrt's PTX emulator instead (the
# rehearsal: with --small, the cases marked small), and skips what needs a
# GPU. With --device=cuda and no GPU, it fails at once.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
device=cuda small=0 results=$here/results
usage="usage: bash run.sh [--device=cuda|emu] [--small] [--results DIR]"
while [ $# -gt 0 ]; do
  case $1 in
    --device=cuda|--device=emu) device=${1#--device=} ;;
    --device=*) echo "run.sh: unknown device '${1#--device=}'; valid: cuda, emu" >&2; exit 2 ;;
    --small) small=1 ;;
    --results) results=${2:?$usage}; shift ;;
    --results=*) results=${1#--results=} ;;
    -h|--help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'; $usage" >&2; exit 2 ;;
  esac
  shift
done

# The bundle's OpenMPI, relocated: OPAL_PREFIX and the PMIX_* variables
# point its component and help-file paths into the bundle; binaries find their
# libraries through RUNPATH $ORIGIN (gpu-bundle.sh set it).
export OPAL_PREFIX=$here/mpi PMIX_PREFIX=$here/pmix
# Debian's PMIx has absolute install paths: each one is set.
export PMIX_LIBDIR=$here/pmix/lib PMIX_PKGLIBDIR=$here/pmix/lib/pmix
export PMIX_DATADIR=$here/pmix/share PMIX_PKGDATADIR=$here/pmix/share/pmix
export PATH=$here/bin:$here/mpi/bin:${PATH:-/usr/bin:/bin}
export HOME=${HOME:-/tmp}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_hwloc_base_binding_policy=none
# No MCA parameter file from the host's own MPI, if it has one.
export OMPI_MCA_mca_base_param_files=/dev/null
mpirun=$here/mpi/bin/mpirun

rm -rf "$results/logs" "$results/logs.tar.gz" "$results/cases.out" "$results/sdpa.json"
mkdir -p "$results/logs" || exit 2
# A copy that dropped the executable bits (a transfer) still runs.
chmod u+x "$here"/bin/* "$here"/mpi/bin/* 2>/dev/null
t_start=$(date +%s)
now() { date +%s.%N; }
echo "run.sh: ringc L5 bundle $(cat "$here/BUNDLE_INFO" 2>/dev/null) on $(hostname 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
echo "run.sh: device=$device small=$small results=$results"

# 1. The machine.
gpus=0 cc= gpu_name= driver=
if [ "$device" = cuda ]; then
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "run.sh: FAIL --device=cuda: no NVIDIA GPU here (nvidia-smi is missing or 'nvidia-smi -L' failed); run on a GPU machine, or rehearse with --device=emu --small" >&2
    exit 2
  fi
  nvidia-smi
  gpus=$(nvidia-smi -L | grep -c '^GPU ')
  gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)
  echo "run.sh: $gpus GPU(s): $gpu_name, compute capability $cc, driver $driver"
  # libnccl.so.2 (NCCL cases): the system's, else PyTorch's wheel.
  if ! ldconfig -p 2>/dev/null | grep -q libnccl.so.2; then
    nccl_dir=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)
    if [ -n "$nccl_dir" ] && [ -e "$nccl_dir/libnccl.so.2" ]; then
      export RINGRT_NCCL_LIBRARY=$nccl_dir/libnccl.so.2
      echo "run.sh: NCCL from PyTorch's wheel: $RINGRT_NCCL_LIBRARY"
    fi
  fi
else
  gpus=1 cc=emu gpu_name="ringrt PTX emulator" driver=none
  echo "run.sh: device emu: GPU artifacts run in ringrt's PTX emulator (no GPU used)"
fi
hopper=0
case $cc in 9.*|emu) hopper=1 ;; esac

# 2. Self-check: every ELF file's libraries resolve inside the bundle or to
# the C/C++ runtime (libcuda and libnccl are dlopen'ed, not linked).
ldd_bad=$(bash "$here/check-ldd.sh" "$here")
if [ -n "$ldd_bad" ]; then
  echo "run.sh: bundle self-check FAILED, libraries outside the bundle:"; echo "$ldd_bad"
  ldd_ok=0
else
  echo "run.sh: bundle self-check: every binary's libraries resolve inside the bundle or to libc/libstdc++"
  ldd_ok=1
fi

# 3-5. The plan.
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
declare -a plan skipped
# Stage budgets in seconds (sum 450: with start-up and the report, < 8 min).
declare -A budget=([l5]=170 [nccl]=30 [sanitize]=100 [bench]=70 [sdpa]=60 [ring]=20)
declare -A expect=([l5]=3 [nccl]=4 [sanitize]=15 [bench]=3 [ring]=6)
while IFS=$'\t' read -r id stage ranks ngpu hop sm lim art args note; do
  why=
  # sm: 1 = also in the --small rehearsal, 2 = only there, 0 = not there.
  if [ $small = 1 ] && [ "$sm" = 0 ]; then continue; fi
  if [ $small = 0 ] && [ "$sm" = 2 ]; then continue; fi
  if [ "$device" = emu ]; then
    case $stage in
      sanitize) why="compute-sanitizer needs a GPU" ;;
      nccl) why="NCCL needs --device=cuda" ;;
      ring|bench) [ "$sm" != 0 ] || why="benchmark shapes are too large for the emulator" ;;
    esac
  fi
  [ -z "$why" ] && [ "$ngpu" -gt "$gpus" ] && why="needs $ngpu GPUs, $gpus present"
  [ -z "$why" ] && [ "$hop" = 1 ] && [ $hopper = 0 ] && why="sm_90a: not a Hopper GPU (compute capability $cc)"
  [ -z "$why" ] && [ "$stage" = sanitize ] && [ -z "$sanitizer" ] && why="compute-sanitizer not installed"
  if [ -n "$why" ]; then skipped+=("$id: $why"); continue; fi
  plan+=("$id	$stage	$ranks	$lim	$art	$args	$note")
done < "$here/cases.tsv"

declare -A count limit_of
expected=0
for c in "${plan[@]}"; do
  IFS=$'\t' read -r id stage ranks lim art args note <<< "$c"
  count[$stage]=$(( ${count[$stage]:-0} + 1 ))
  limit_of[$stage]="${limit_of[$stage]:-} $lim"
  e=${expect[$stage]}; [ "$device" = emu ] && e=$(( e * 2 ))
  expected=$(( expected + e ))
done
torch_ok=0
if [ "$device" = cuda ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  torch_ok=1; expected=$(( expected + 30 ))
fi
limits() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -n | uniq -c | awk '{printf "%s%d x %d s", (NR > 1 ? ", " : ""), $1, $2}'; }
echo "run.sh: plan: ${#plan[@]} cases; per-case time limits:"
for st in l5 nccl sanitize bench ring; do
  [ -n "${count[$st]:-}" ] && echo "  $st: ${count[$st]} cases ($(limits "${limit_of[$st]}")), stage budget ${budget[$st]} s"
done
[ $torch_ok = 1 ] && echo "  sdpa: PyTorch scaled_dot_product_attention on the benchmark shapes, limit ${budget[sdpa]} s"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
echo "run.sh: estimate: about $expected s expected; at most 450 s of stage budgets (under 8 minutes); a case that its stage's budget leaves no time for is reported as failed (not run)"

# Runs the planned cases of one stage.
declare -A stage_end
n_done=0
run_stage() {
  local want=$1 end=$(( $(date +%s) + budget[$1] ))
  for c in "${plan[@]}"; do
    IFS=$'\t' read -r id stage ranks lim art args note <<< "$c"
    [ "$stage" = "$want" ] || continue
    n_done=$(( n_done + 1 ))
    local left=$(( end - $(date +%s) )) log=$results/logs/$id.log
    if [ $left -lt 5 ]; then
      printf '%s\t%s\tFAIL\t0\tnot run: the %s stage budget (%s s) was used up\n' "$id" "$stage" "$stage" "${budget[$stage]}" >> "$results/cases.out"
      printf '[%2d/%d] FAIL %-34s not run (stage budget used up)\n' $n_done ${#plan[@]} "$id"
      continue
    fi
    [ $lim -gt $left ] && lim=$left
    local pre=()
    [ "$stage" = sanitize ] && pre=("$sanitizer" --tool "$note" --error-exitcode 97 --print-limit 20)
    local t0 rc
    t0=$(now)
    # shellcheck disable=SC2086
    timeout -k 5 "$lim" "$mpirun" -np "$ranks" "${pre[@]}" "$here/bin/ring-run" \
      "$here/art/$art" $args "--device=$device" < /dev/null > "$log" 2>&1
    rc=$?
    local secs verdict detail last
    secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
    last=$(grep -a '^ring-run: ' "$log" | tail -1)
    verdict=FAIL
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      detail="timed out after $lim s"
    elif [ "$stage" = sanitize ]; then
      detail=$(grep -a 'ERROR SUMMARY' "$log" | head -1)
      [ $rc = 0 ] && grep -aq 'ERROR SUMMARY: 0 errors' "$log" && verdict=PASS
      [ -z "$detail" ] && detail="exit $rc: ${last:-$(tail -1 "$log")}"
    else
      case $last in
        "ring-run: PASS "*|"ring-run: BENCH "*) [ $rc = 0 ] && verdict=PASS ;;
      esac
      detail=${last#ring-run: }
      [ -z "$detail" ] && detail="exit $rc: $(tail -1 "$log")"
      # The kernels' own time by CUDA events (ring-run's KERNEL line).
      local k
      k=$(sed -n 's/^ring-run: KERNEL ms_per_iter=\([^ ]*\).*/\1/p' "$log" | tail -1)
      [ -n "$k" ] && detail="$detail kernel_ms_per_iter=$k"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$stage" "$verdict" "$secs" "$detail" "$note" >> "$results/cases.out"
    printf '[%2d/%d] %s %-34s %3d rank(s) %6s s  %s\n' $n_done ${#plan[@]} $verdict "$id" "$ranks" "$secs" "$detail"
  done
}

echo "== L5 correctness matrix"
run_stage l5
run_stage nccl
echo "== compute-sanitizer"
run_stage sanitize
echo "== kernel benchmark (P = 1) and ring (P = 2 on one GPU)"
run_stage bench
run_stage ring
if [ $torch_ok = 1 ]; then
  awk -F'\t' '$2=="bench" || $2=="ring" {print $10}' "$here/cases.tsv" | sort -u > "$results/shapes.txt"
  timeout -k 5 "${budget[sdpa]}" python3 "$here/sdpa_bench.py" "$results/shapes.txt" "$results/sdpa.json" \
    2>&1 | tee "$results/logs/sdpa.log"
elif [ "$device" = cuda ]; then
  echo "run.sh: PyTorch with CUDA not found: no scaled_dot_product_attention figures"
fi

# The report (python3 when there is one; else the raw case list).
info="device=$device;gpus=$gpus;gpu=$gpu_name;cc=$cc;driver=$driver;ldd_ok=$ldd_ok;seconds=$(( $(date +%s) - t_start ))"
if command -v python3 >/dev/null; then
  python3 "$here/report.py" "$results" "$info" "$(printf '%s\n' "${skipped[@]}")"
else
  cat "$results/cases.out"
fi
# The per-case logs as one archive: DIR stays at a handful of files (the
# device tool brings back at most 8 from $OUT).
tar czf "$results/logs.tar.gz" -C "$results" logs && rm -rf "$results/logs"
pass=$(awk -F'\t' '$3=="PASS"' "$results/cases.out" | wc -l)
fail=$(awk -F'\t' '$3!="PASS"' "$results/cases.out" | wc -l)
[ $ldd_ok = 1 ] || fail=$(( fail + 1 ))
echo "run.sh: $(( $(date +%s) - t_start )) s in all; results in $results"
echo "L5: $pass passed, $fail failed"
[ "$fail" = 0 ]
