#!/usr/bin/env bash
#===- check-ldd.sh - do a bundle's binaries resolve inside it? -------------===#
#
# Usage: check-ldd.sh BUNDLE
#
# Runs ldd on every ELF file under BUNDLE (executables, libraries, MPI
# components, artifact libraries) with no LD_LIBRARY_PATH, and prints one
# line per library that is not found or resolves outside BUNDLE to anything
# but the C and C++ runtime (libc, libm, libdl, libpthread, librt, the
# loader, libgcc_s, libstdc++) or the CUDA driver. Prints nothing when the
# bundle is self-contained.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
bundle=$(cd "$1" && pwd -P)
allowed='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6|libcuda\.so\.1)$'
find "$bundle" -type f | while read -r f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  env -u LD_LIBRARY_PATH ldd "$f" 2>&1 | while read -r lib arrow path _; do
    case $lib in statically|*:) continue ;; esac
    [[ $lib == /* ]] && continue  # the loader, by absolute path
    name=$(basename "$lib")
    if [ "$arrow" = "=>" ] && [ "$path" = "not" ]; then
      echo "${f#$bundle/}: $name not found"
    elif [[ $name =~ $allowed ]]; then
      continue
    elif [ "$arrow" = "=>" ] && [[ $(readlink -f "$path") != "$bundle"/* ]]; then
      echo "${f#$bundle/}: $name resolves outside the bundle ($path)"
    fi
  done
done
