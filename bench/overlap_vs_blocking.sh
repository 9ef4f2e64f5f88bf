#!/usr/bin/env bash
#===- bench/overlap_vs_blocking.sh - what overlapping transfers buys -----===#
#
# Compiles one ring spec for the CPU target with ring-overlap (the K/V
# shift of stage t+1 in flight during stage t's compute) and with
# --no-overlap (every shift blocks), checks both, and times three modes
# with `ring-run --bench --stage-stats`, REPS times each, interleaved:
#   overlap     overlapped schedule, MPI progress calls between kernel tiles
#   overlap-np  overlapped schedule with RINGRT_PROGRESS=0 (no progress
#               calls: MPI moves the data only inside the wait, the
#               behaviour before ringrt_cg_progress)
#   blocking    --no-overlap
# and prints, per mode, the median over runs and ranks of each stage
# figure (ms per call, stages with a shift): stage wall, compute
# (stage − exposed), transfer (start to completion), exposed (blocked in
# the wait), the stage's thread CPU time, and ms_per_iter (max over ranks).
# A benchmark, not a test: numbers go to NOTES.md.
#
# Usage: bench/overlap_vs_blocking.sh BUILD_DIR [RANKS] [SPEC] [ITERS] [REPS]
# QUIET=1 runs each mpirun in a session of its own whose scheduler
# autogroup has nice -20 (root only), so that other sessions' builds on a
# shared machine take little of the cores while it runs.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RANKS] [SPEC] [ITERS] [REPS]}
ranks=${2:-2}
spec=${3:-"heads=16,seq=512,head_dim=128,ring=$ranks,dtype=f32"}
iters=${4:-50}
reps=${5:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun=(mpirun)
mpirun --version 2>/dev/null | grep -q "Open MPI" &&
  mpirun+=(--allow-run-as-root --oversubscribe --bind-to none)
[ "$ranks" -gt "$(nproc)" ] && mpirun+=(--mca mpi_yield_when_idle 1)
quiet() {
  if [ "${QUIET:-0}" = 1 ]; then
    setsid bash -c 'echo -20 > /proc/self/autogroup; exec "$@"' quiet "$@"
  else
    "$@"
  fi
}

for mode in overlap blocking; do
  flag=""; [ $mode = blocking ] && flag=--no-overlap
  "$build/bin/ringc" --spec "$spec" --target=cpu $flag -o "$out/$mode"
  "${mpirun[@]}" -np "$ranks" "$build/bin/ring-run" "$out/$mode" --check --seed 3 | tail -1
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$reps"); do
  for mode in overlap overlap-np blocking; do
    dir=$out/overlap; env=(RINGRT_PROGRESS=1)
    [ $mode = overlap-np ] && env=(RINGRT_PROGRESS=0)
    [ $mode = blocking ] && dir=$out/blocking
    quiet env "${env[@]}" "${mpirun[@]}" -x RINGRT_PROGRESS -np "$ranks" \
      "$build/bin/ring-run" "$dir" --bench --iters "$iters" --stage-stats |
      sed -n "s/^ring-run: /$mode /p" >> "$out/log"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/log" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, kind, rest = line.split(" ", 2)
    kv = dict(re.findall(r"(\w+)=([\d.e+-]+)", rest))
    r = rows.setdefault(mode, {"bench": [], "stage": []})
    if kind == "BENCH":
        r["bench"].append(float(kv["ms_per_iter"]))
    elif kind == "STAGE":
        r["stage"].append({k: float(v) for k, v in kv.items()
                           if k in ("stage_ms", "compute_ms", "transfer_ms",
                                    "exposed_ms", "stage_cpu_ms",
                                    "compute_cpu_ms")})
cols = ["stage_ms", "compute_ms", "transfer_ms", "exposed_ms",
        "stage_cpu_ms", "compute_cpu_ms"]
print("| mode | " + " | ".join(cols) + " | ms_per_iter (median; all) |")
print("|---" * (len(cols) + 2) + "|")
for mode in ("overlap", "overlap-np", "blocking"):
    r = rows.get(mode)
    if not r:
        continue
    med = [statistics.median(s[c] for s in r["stage"]) for c in cols]
    runs = ", ".join(f"{x:.2f}" for x in r["bench"])
    print(f"| {mode} | " + " | ".join(f"{m:.3f}" for m in med) +
          f" | {statistics.median(r['bench']):.2f} ({runs}) |")
PY
echo "spec: $spec; ranks: $ranks; cores: $(nproc); iters: $iters; reps: $reps; QUIET=${QUIET:-0}"
