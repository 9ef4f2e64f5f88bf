#!/bin/sh
#===- run-ref-check.sh - one ring-run check of a reference artifact ------===#
#
# usage: run-ref-check.sh EXPECT NP DIR RING_RUN MAKE_ARTIFACT REFLIB SPEC
#                         [GEN_ARGS...] -- MPIRUN... [-- RING_RUN_ARGS...]
#
# Writes the reference artifact for SPEC into DIR, runs
# `MPIRUN -np NP RING_RUN DIR --check RING_RUN_ARGS` and checks the last
# line of its output and its exit status against EXPECT: PASS, FAIL,
# FAIL:TEXT (a FAIL whose line contains TEXT), or BENCH (runs --bench).
#
#===----------------------------------------------------------------------===#
set -u
expect=$1 np=$2 dir=$3 ringrun=$4 mkart=$5 reflib=$6 spec=$7
shift 7
gen=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do gen="$gen $1"; shift; done
[ $# -gt 0 ] && shift
mpirun=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do mpirun="$mpirun $1"; shift; done
[ $# -gt 0 ] && shift
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
"$mkart" --out "$dir" --lib "$reflib" --spec "$spec" $gen || exit 1
mode=--check
[ "$expect" = BENCH ] && mode=--bench
out=$($mpirun -np "$np" "$ringrun" "$dir" $mode "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
last=$(printf '%s\n' "$out" | grep -E '^ring-run: (PASS|FAIL|BENCH) ' | tail -n 1)
case "$expect" in
PASS)
  # With --dump, the five .npy files must exist too.
  dump=""
  prev=""
  for a in "$@"; do [ "$prev" = --dump ] && dump=$a; prev=$a; done
  for f in q k v o lse; do
    [ -z "$dump" ] || [ -s "$dump/$f.npy" ] || { echo "missing $dump/$f.npy" >&2; exit 1; }
  done
  [ $rc -eq 0 ] && case "$last" in "ring-run: PASS "*) exit 0 ;; esac ;;
BENCH)
  [ $rc -eq 0 ] && case "$last" in "ring-run: BENCH ms_per_iter="*) exit 0 ;; esac ;;
FAIL)
  [ $rc -ne 0 ] && case "$last" in "ring-run: FAIL "*) exit 0 ;; esac ;;
FAIL:*)
  text=${expect#FAIL:}
  [ $rc -ne 0 ] && case "$last" in "ring-run: FAIL "*"$text"*) exit 0 ;; esac ;;
esac
echo "run-ref-check: expected $expect, got exit $rc and last line: $last" >&2
exit 1
