#!/usr/bin/env bash
#===- scripts/setup.sh - install every dependency of ringc -------------===#
#
# Installs the build and test dependencies from Debian's packages
# (DESIGN.md section 5). Idempotent: re-running it only re-checks.
# The CUDA 13.0 toolkit is expected at /usr/local/cuda (preinstalled); its
# absence only disables the ptxas checks, it is not an error.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

PKGS=(
  cmake ninja-build g++ python3 python3-psutil
  llvm-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libfmt-dev libgtest-dev
  openmpi-bin libopenmpi-dev
  libopenblas-dev
  pkg-config patchelf
  # libFuzzer targets (fuzz/): clang with its sanitizer and fuzzer runtimes
  clang-22 libclang-rt-22-dev
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

for t in /usr/lib/llvm-22/bin/FileCheck /usr/lib/llvm-22/bin/lit /usr/lib/llvm-22/bin/llc mpirun; do
  command -v "$t" >/dev/null || { echo "setup: missing $t after install" >&2; exit 1; }
done
if [ -x /usr/local/cuda/bin/ptxas ]; then
  echo "setup: ptxas: $(/usr/local/cuda/bin/ptxas --version | tail -1)"
else
  echo "setup: note: /usr/local/cuda/bin/ptxas not found; PTX assembly tests will be skipped"
fi
