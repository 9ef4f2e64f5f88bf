#!/bin/sh
# Regenerates the PTX test inputs from the LLVM IR sources (LLVM 22).
set -e
cd "$(dirname "$0")"
BIN=/usr/lib/llvm-22/bin
for f in gemm16 reduce cpasync divergent; do
  $BIN/opt -O3 -mtriple=nvptx64-nvidia-cuda $f.ll -o /tmp/$f.bc
  $BIN/llc -O3 -mtriple=nvptx64-nvidia-cuda -mcpu=sm_90a -mattr=+ptx80 /tmp/$f.bc -o $f.sm90a.ptx
  $BIN/llc -O3 -mtriple=nvptx64-nvidia-cuda -mcpu=sm_80 -mattr=+ptx80 /tmp/$f.bc -o $f.sm80.ptx
  /usr/local/cuda/bin/ptxas -arch=sm_90a $f.sm90a.ptx -o /dev/null
  /usr/local/cuda/bin/ptxas -arch=sm_80 $f.sm80.ptx -o /dev/null
done
