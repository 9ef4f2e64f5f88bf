#!/usr/bin/env bash
# Runs mpirun with a private, short TMPDIR (removed afterwards) and passes
# its exit status through.
#
# Why: lit runs several mpiruns at once, and Open MPI 4 keeps every job's
# session directory under one shared $TMPDIR/ompi.<host>.<uid>. One job
# removing that directory at its end races with another creating its
# pid.<N> below it ("mkdir ... failed"), a rare but real flake of the suite.
# A per-run directory under /tmp keeps the PMIx socket paths well below the
# 108-byte limit of a Unix socket name, which lit's %t paths would not.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/ringc-mpi.XXXXXX") || exit 1
# The path must stay short: fall back to /tmp when TMPDIR is long.
if [ "${#dir}" -gt 40 ]; then
  rmdir "$dir"
  dir=$(mktemp -d /tmp/ringc-mpi.XXXXXX) || exit 1
fi
trap 'rm -rf "$dir"' EXIT
TMPDIR=$dir "$@"
