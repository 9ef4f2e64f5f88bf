#!/usr/bin/env bash
#===- scripts/build.sh - configure and build ringc -----------------------===#
#
# Configures build/ (once) and builds everything with ninja -j2. The build
# directory can be changed with RINGC_BUILD_DIR.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RINGC_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
ninja -C "$build" -j"${RINGC_JOBS:-2}"
