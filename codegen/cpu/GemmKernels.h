//===- GemmKernels.h - CPU kernels of the layer's projections ---*- C++ -*-===//
//
// This file declares the builders of the CPU kernels of the whole-layer ops
// (RingLayerOps.td): the input projection (ring.project), the partial
// output projection (ring.out_project) and the rounding of the reduced Y
// with its bias (the local half of ring.output_all_reduce).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_GEMMKERNELS_H
#define RINGC_CODEGEN_CPU_GEMMKERNELS_H

#include "codegen/cpu/KernelBuilder.h"

namespace mlir::ring::cpu {

/// Rows of the GEMM kernels' register tile.
constexpr int64_t kGemmRowTile = 4;
/// The most f32 lanes a GEMM vector has: one AVX2 register. (The runtime ISA
/// dispatch may build wider variants: the width is a parameter of
/// emitRegisterBlockedGemm, not a constant of its loops.)
constexpr int64_t kGemmMaxLanes = 8;

/// The kernel of ring.project: (x, w, [bias], out).
func::FuncOp getProjectKernel(KernelCache &cache, ProjectOp op);
/// The kernel of ring.out_project: (o, wo, partial).
func::FuncOp getOutProjectKernel(KernelCache &cache, OutProjectOp op);
/// The local half of ring.output_all_reduce, after the sums: (partial,
/// [bias], y) with y = round(partial + bias).
func::FuncOp getOutputFinishKernel(KernelCache &cache, OutputAllReduceOp op);
/// The host half of ring.output_reduce_scatter after the sums: takes the
/// op's operands and then the share's first row and row count (index):
/// Y rows [0, count) = round(partial rows [first, first + count) + b_o),
/// the rows past them 0.
func::FuncOp getOutputScatterFinishKernel(KernelCache &cache,
                                          OutputReduceScatterOp op);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_GEMMKERNELS_H
