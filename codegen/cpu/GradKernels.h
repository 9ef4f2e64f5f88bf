//===- GradKernels.h - CPU kernels of the backward-pass ops -----*- C++ -*-===//
//
// This file declares the builders of the CPU kernels of the ops in
// RingGradOps.td. Each kernel is a private function taking the op's
// operands, created once per variant.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_GRADKERNELS_H
#define RINGC_CODEGEN_CPU_GRADKERNELS_H

#include "codegen/cpu/KernelBuilder.h"

namespace mlir::ring::cpu {

func::FuncOp getZeroKernel(KernelCache &cache, ZeroOp op);
func::FuncOp getAccumulateKernel(KernelCache &cache, AccumulateOp op);
func::FuncOp getConvertKernel(KernelCache &cache, ConvertOp op);
/// dest head h = Σ_r source head h·R + r (fp32 sum, one rounding).
func::FuncOp getSumReplicasKernel(KernelCache &cache, SumReplicasOp op);
func::FuncOp getGradDeltaKernel(KernelCache &cache, GradDeltaOp op);
func::FuncOp getBlockAttentionBackwardKernel(KernelCache &cache,
                                             BlockAttentionBackwardOp op);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_GRADKERNELS_H
