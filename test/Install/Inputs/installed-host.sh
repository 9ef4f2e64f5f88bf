#!/usr/bin/env bash
#===- installed-host.sh - build examples/host against an installed ringc ---===#
#
# Usage: installed-host.sh BUILD_DIR SOURCE_DIR MPIRUN...
#
# Installs BUILD_DIR into a fresh prefix, then, in a private mount namespace
# where SOURCE_DIR and BUILD_DIR are empty directories (so nothing can reach
# the trees), configures and builds a copy of examples/host against that
# prefix alone (CMake: find_package + ringc_add_artifact; and pkg-config +
# mpicc), runs both on 4 MPI ranks, and checks that a changed ringc makes
# the artifact rebuild. Prints what the lit test checks.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
shift 2
work=$(mktemp -d /tmp/ringc-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cp -r "$src/examples/host" "$work/host"
# A second user project: the spec as a .mlir file (the artifact takes the
# name of its function, small_cpu, whatever the target is called).
mkdir "$work/mlirhost"
cp "$src/examples/small_cpu.mlir" "$src/examples/host/attention_host.c" "$work/mlirhost/"
cat > "$work/mlirhost/CMakeLists.txt" <<'EOF2'
cmake_minimum_required(VERSION 3.20)
project(mlirhost LANGUAGES C)
find_package(ringc REQUIRED)
ringc_add_artifact(attn SPEC small_cpu.mlir TARGET cpu OPTIONS --cpu=x86-64)
add_executable(mlirhost attention_host.c)
target_link_libraries(mlirhost PRIVATE attn m)
# A GPU target links the same way (the object embeds the PTX).
ringc_add_artifact(attn_gpu SPEC "heads=2,seq=128,head_dim=64,ring=2,causal=1"
  TARGET sm_90a)
add_executable(gpulink gpulink.c)
target_link_libraries(gpulink PRIVATE attn_gpu)
EOF2
cat > "$work/mlirhost/gpulink.c" <<'EOF2'
#include "attn_gpu.h"
#include <stdio.h>
int main(void) {
  ringrt_context_options o;
  attn_gpu_context_options(&o, "mpi", "cuda");
  printf("gpu artifact linked: entry %s, %d ranks\n",
         attn_gpu_attention ? "present" : "missing", (int)o.grid_shape[0]);
  return 0;
}
EOF2
# A wrong call: a precise configure-time error.
mkdir "$work/badtarget"
cat > "$work/badtarget/CMakeLists.txt" <<'EOF2'
cmake_minimum_required(VERSION 3.20)
project(badtarget LANGUAGES C)
find_package(ringc REQUIRED)
ringc_add_artifact(attn SPEC "heads=1,seq=64,head_dim=64" TARGET gfx90a)
EOF2
mkdir "$work/empty"
# The mpirun command may start with the suite's wrapper
# (test/mpirun-isolated.sh), which lives in the source tree hidden below:
# run a copy of it.
if [ -f "$1" ] && [ "${1#"$src"/}" != "$1" ]; then
  cp "$1" "$work/mpirun-wrapper.sh"
  set -- "$work/mpirun-wrapper.sh" "${@:2}"
fi

# The mpirun command line (a list) travels as arguments after --.
unshare --mount --propagation private -- bash -euo pipefail -s -- \
  "$work" "$build" "$src" "$@" <<'INNER'
work=$1 build=$2 src=$3
shift 3
# Hide the build tree first: it may lie inside the source tree.
mount --bind "$work/empty" "$build"
mount --bind "$work/empty" "$src" 2>/dev/null || true
n=0
for d in "$build" "$src"; do
  [ -d "$d" ] && n=$(( n + $(ls -A "$d" | wc -l) ))
done
[ ! -e "$build/CMakeCache.txt" ] && [ ! -e "$src/CMakeLists.txt" ] &&
  echo "trees hidden: $n entries"
cd "$work"
prefix=$work/prefix

echo "SONAME: $(readelf -d "$prefix/lib/libringrt.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
(cd "$prefix" && find . \( -type f -o -type l \) | sort | sed 's/^/installed: /')

cmake -S host -B hb -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release > configure.log 2>&1 ||
  { cat configure.log; exit 1; }
cmake --build hb > build.log 2>&1 || { cat build.log; exit 1; }
grep -o "ringc: compiling artifact small_cpu for cpu" build.log
"$@" -np 4 hb/attention_host < /dev/null  # (mpirun would read the script)

# A newer ringc rebuilds the artifact.
touch "$prefix/bin/ringc"
ninja -C hb -n | grep -o "ringc: compiling artifact small_cpu" |
  sed 's/^/after touching ringc: /'

# The .mlir spec; and the wrong TARGET.
cmake -S mlirhost -B mb -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > mlir.log 2>&1 &&
  cmake --build mb >> mlir.log 2>&1 || { cat mlir.log; exit 1; }
"$@" -np 4 mb/mlirhost < /dev/null | sed 's/^/mlir spec: /'
mb/gpulink
if cmake -S badtarget -B bb -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > bad.log 2>&1; then
  echo "badtarget: configured (wrong)"
else
  # (CMake wraps and indents the message)
  tr -s ' \n' ' ' < bad.log |
    grep -o "ringc_add_artifact(attn): TARGET 'gfx90a' is not a ringc target; valid: cpu, sm_90a, sm_80"
fi

# Without CMake: the installed ringc, pkg-config and mpicc.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
"$prefix/bin/ringc" --spec "heads=4,kv_heads=2,seq=256,head_dim=64,ring=4,causal=1" \
  --name=small_cpu --target=cpu -o art
mpicc -Wall -Werror $(pkg-config --cflags ringrt) -Iart host/attention_host.c \
  art/small_cpu.o $(pkg-config --libs ringrt) -o host-mpicc
"$@" -np 4 ./host-mpicc < /dev/null | sed 's/^/mpicc: /'
INNER
