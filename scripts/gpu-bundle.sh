#!/usr/bin/env bash
#===- scripts/gpu-bundle.sh - the self-contained L5 bundle for a GPU machine ===#
#
# Usage: scripts/gpu-bundle.sh [--small] OUT
#        scripts/gpu-bundle.sh --rehearse [--small] [OUT]
#
# Builds OUT (at most 48 MiB) from the build in $RINGC_BUILD_DIR (default
# build/): ring-run and libringrt (`cmake --install --component runtime`),
# the sm_80 and sm_90a artifacts of the L5 matrix (the specs of
# test/Execution/gpu-cuda*.test, plus the benchmark shapes; matrix.py), the
# OpenMPI runtime that ring-run needs, relocated (OPAL_PREFIX/PMIX_PREFIX
# and RUNPATH $ORIGIN, with its shared-library closure), and run.sh. The
# target machine needs no LLVM, no MPI and no package install: only a
# driver, and PyTorch for the side-by-side figures. On a GPU machine:
#   bash OUT/run.sh [--results DIR]      (ends with `L5: N passed, N failed`)
#
# --small builds only the rehearsal's cases. --rehearse builds the bundle
# (default OUT: a temporary directory), copies it elsewhere and runs
# `run.sh --device=emu --small` in an empty environment (env -i) inside a
# private mount namespace where the source and build trees, the system's
# OpenMPI, PMIx and their libraries and LLVM are hidden behind empty files
# and directories: what it runs can only come from the bundle.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${RINGC_BUILD_DIR:-$root/build}" && pwd)
rehearse=0 small=0 out=
for a in "$@"; do
  case $a in
    --rehearse) rehearse=1 ;;
    --small) small=1 ;;
    -h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu-bundle.sh: unknown option '$a'; valid: --rehearse, --small" >&2; exit 2 ;;
    *) out=$a ;;
  esac
done
if [ -z "$out" ]; then
  [ $rehearse = 1 ] || { echo "usage: scripts/gpu-bundle.sh [--small] OUT | --rehearse [--small] [OUT]" >&2; exit 2; }
  tmp_out=$(mktemp -d /tmp/ringc-bundle.XXXXXX)
  trap 'rm -rf "$tmp_out"' EXIT
  out=$tmp_out/bundle
fi
for t in ringc ring-run; do
  [ -x "$build/bin/$t" ] || { echo "gpu-bundle.sh: $build/bin/$t is missing; build first (scripts/build.sh)" >&2; exit 1; }
done
command -v patchelf >/dev/null || { echo "gpu-bundle.sh: patchelf is missing (scripts/setup.sh installs it)" >&2; exit 1; }
ompi_info=$(command -v ompi_info) || { echo "gpu-bundle.sh: OpenMPI's ompi_info not found; the bundle carries OpenMPI" >&2; exit 1; }
t0=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# 1. ring-run and libringrt.
cmake --install "$build" --prefix "$out" --component runtime > /dev/null

# 2. OpenMPI, relocatable: mpirun/orted, the MCA components and help files
# under OUT/mpi laid out as under its configured prefix (OPAL_PREFIX
# replaces the prefix), PMIx's components under OUT/pmix (PMIX_PREFIX).
path_of() { "$ompi_info" --path "$1" --parsable | sed -n "s/^path:$1://p"; }
ompi_prefix=$(path_of prefix)
ompi_pkglibdir=$(path_of pkglibdir)
ompi_pkgdatadir=$(path_of pkgdatadir)
mkdir -p "$out/mpi/bin"
cp -L "$(command -v mpirun)" "$out/mpi/bin/mpirun"
cp -L "$(dirname "$(readlink -f "$(command -v mpirun)")")/orted" "$out/mpi/bin/orted" 2>/dev/null || true
comp_dir=$out/mpi/${ompi_pkglibdir#"$ompi_prefix"/}
mkdir -p "$comp_dir" "$out/mpi/${ompi_pkgdatadir#"$ompi_prefix"/}"
cp -r "$ompi_pkgdatadir/." "$out/mpi/${ompi_pkgdatadir#"$ompi_prefix"/}/"
# PMIx: where the library that the pmix component links lives.
libpmix=$(ldd "$ompi_pkglibdir"/mca_pmix_ext*.so 2>/dev/null | awk '/libpmix\.so/ {print $3; exit}')
if [ -n "$libpmix" ]; then
  pmix_prefix=$(dirname "$(dirname "$(readlink -f "$libpmix")")")
  mkdir -p "$out/pmix/lib" "$out/pmix/share"
  [ -d "$pmix_prefix/lib/pmix" ] && cp -r "$pmix_prefix/lib/pmix" "$out/pmix/lib/"
  [ -d "$pmix_prefix/share/pmix" ] && cp -r "$pmix_prefix/share/pmix" "$out/pmix/share/"
fi

# The shared-library closure: every library an ELF file here needs that is
# not the C/C++ runtime goes into OUT/lib. MCA components whose libraries
# lie outside the closure of ring-run and mpirun (InfiniBand, UCX, libfabric,
# CUDA-aware, Java ...) are left out: shared memory and TCP are what one
# node needs.
system_lib='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6)$'
deps() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'; }
closure() {  # copies the libraries that $@ need into OUT/lib
  local changed=1 f name path
  while [ $changed = 1 ]; do
    changed=0
    for f in "$@" "$out"/lib/*.so*; do
      while read -r name path; do
        [[ $name =~ $system_lib ]] && continue
        [ -e "$out/lib/$name" ] && continue
        cp -L "$path" "$out/lib/$name"; changed=1
      done < <(deps "$f")
    done
  done
}
closure "$out/bin/ring-run" "$out/mpi/bin/mpirun" "$out"/pmix/lib/pmix/*.so
kept=0 dropped=()
for comp in "$ompi_pkglibdir"/*.so; do
  ok=1
  while read -r name path; do
    [[ $name =~ $system_lib ]] && continue
    [ -e "$out/lib/$name" ] || { ok=0; break; }
  done < <(deps "$comp")
  if ldd "$comp" | grep -q 'not found'; then ok=0; fi
  if [ $ok = 1 ]; then cp -L "$comp" "$comp_dir/"; kept=$((kept + 1)); else dropped+=("$(basename "$comp" .so)"); fi
done
# RUNPATH $ORIGIN-relative everywhere, replacing the build's and Debian's.
for f in "$out"/lib/*.so*; do [ -L "$f" ] || patchelf --set-rpath '$ORIGIN' "$f"; done
patchelf --set-rpath '$ORIGIN/../lib' "$out/bin/ring-run"
for f in "$out"/mpi/bin/*; do patchelf --set-rpath '$ORIGIN/../../lib' "$f"; done
for f in "$comp_dir"/*.so "$out"/pmix/lib/pmix/*.so; do
  [ -e "$f" ] || continue
  patchelf --set-rpath "\$ORIGIN/$(realpath --relative-to="$(dirname "$f")" "$out/lib")" "$f"
done

# 3. The artifacts and the case list.
mkdir -p "$out/art"
python3 "$root/scripts/gpu-bundle/matrix.py" "$root/test/Execution" "$out" $([ $small = 1 ] && echo --small)
compile() {  # id spec target options (comma-separated, or -)
  local opts=()
  [ "$4" = - ] || IFS=, read -r -a opts <<< "$4"
  "$build/bin/ringc" --spec "$2" --target="$3" -o "$out/art/$1" "${opts[@]}" > "$out/art/$1.log" 2>&1 ||
    { echo "gpu-bundle.sh: ringc failed for $1 ($2, $3):" >&2; cat "$out/art/$1.log" >&2; return 1; }
  rm -f "$out/art/$1.log"
  # The host loads NAME.so (with the PTX in it); the object, cubin and
  # header are not needed to run, the .ptx is kept for inspection.
  rm -f "$out/art/$1"/*.o "$out/art/$1"/*.cubin
}
export -f compile; export build out
# (ids, specs, targets and options hold no spaces)
awk -F'\t' '{print $1, $2, $3, $4}' "$out/artifacts.tsv" |
  xargs -n4 -P"${RINGC_JOBS:-2}" bash -c 'compile "$@"' _
cp "$root/scripts/gpu-bundle/run.sh" "$root/scripts/gpu-bundle/report.py" \
  "$root/scripts/gpu-bundle/sdpa_bench.py" "$root/scripts/gpu-bundle/check-ldd.sh" "$out/"
echo "ringc $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$([ $small = 1 ] && echo ' (small)'), built $(date -u +%FT%TZ)" > "$out/BUNDLE_INFO"

# 4. Checks: self-contained, and small enough.
bad=$(bash "$out/check-ldd.sh" "$out")
if [ -n "$bad" ]; then echo "gpu-bundle.sh: not self-contained:" >&2; echo "$bad" >&2; exit 1; fi
size=$(du -sb "$out" | cut -f1)
echo "gpu-bundle.sh: $out: $(( size / 1024 / 1024 )) MiB ($size bytes), $(wc -l < "$out/artifacts.tsv") artifacts, $(wc -l < "$out/cases.tsv") cases, $kept MPI components (left out: ${#dropped[@]}), $(( $(date +%s) - t0 )) s"
if [ "$size" -gt $(( 48 * 1024 * 1024 )) ]; then
  echo "gpu-bundle.sh: the bundle is over 48 MiB" >&2; exit 1
fi
[ $rehearse = 1 ] || exit 0

# 5. The rehearsal: a copy elsewhere, an empty environment, and nothing of
# the build machine's to fall back on.
copy=$(mktemp -d /tmp/ringc-rehearsal.XXXXXX)
trap 'rm -rf "$copy" ${tmp_out:+"$tmp_out"}' EXIT
cp -a "$out" "$copy/b"
# The MPI-specific libraries are hidden (the generic ones, like libz, stay
# for the host's own tools such as python3; check-ldd.sh, which run.sh runs
# first, proves that the bundle's binaries resolve them inside the bundle).
hide=("$build" "$root" /usr/lib/llvm-22 "$(path_of libdir)" "${pmix_prefix:-}"
      "$ompi_pkgdatadir" /etc/openmpi)
for f in orterun orted mpirun mpiexec; do
  f=$(command -v "$f" 2>/dev/null) && hide+=("$(readlink -f "$f")")
done
for f in "$out"/lib/lib{mpi,open-,pmix,hwloc,event,munge,mca_common}*; do
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
    [ -e "$d/$(basename "$f")" ] && hide+=("$(readlink -f "$d/$(basename "$f")")")
  done
done
mapfile -t hide < <(printf '%s\n' "${hide[@]}" | awk 'NF && !seen[$0]++')
echo "gpu-bundle.sh: rehearsal: run.sh --device=emu --small from $copy/b, env -i, hiding: ${hide[*]}"
unshare --mount --propagation private -- bash -c '
  copy=$1; shift
  mkdir -p "$copy/empty-dir"; : > "$copy/empty-file"
  for p in "$@"; do
    [ -n "$p" ] && [ -e "$p" ] || continue
    if [ -d "$p" ]; then mount --bind "$copy/empty-dir" "$p"; else mount --bind "$copy/empty-file" "$p"; fi
  done
  cd "$copy" && exec env -i PATH=/usr/bin:/bin HOME="$copy" bash "$copy/b/run.sh" --device=emu --small --results "$copy/results"
' _ "$copy" "${hide[@]}"
