//===- BlockKernels.h - CPU kernels of the per-rank block ops ---*- C++ -*-===//
//
// This file declares the builders of the CPU kernels of ring.fill_partial,
// ring.merge, ring.finalize, ring.block_scores and ring.block_softmax_v.
// Each kernel is a private function taking the op's operands, created once
// per variant.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_BLOCKKERNELS_H
#define RINGC_CODEGEN_CPU_BLOCKKERNELS_H

#include "codegen/cpu/KernelBuilder.h"

namespace mlir::ring::cpu {

/// The kernel of `op` with the op's operand types as arguments, created
/// once per variant by `build`.
func::FuncOp getKernelFor(KernelCache &cache, Operation *op, StringRef prefix,
                          function_ref<void(KernelBuilder &, ValueRange)> build);
/// Stores `value` (an f32 scalar) into every element of `memref`.
void fillBuffer(KernelBuilder &b, Value memref, double value);
/// Loops over batch, heads and `rows` rows of a [B, H, ...] buffer.
void forEachRow(KernelBuilder &b, MemRefType type, int64_t rows,
                function_ref<void(Value, Value, Value)> body);

func::FuncOp getFillPartialKernel(KernelCache &cache, FillPartialOp op);
func::FuncOp getMergeKernel(KernelCache &cache, MergeOp op);
func::FuncOp getFinalizeKernel(KernelCache &cache, FinalizeOp op);
func::FuncOp getBlockScoresKernel(KernelCache &cache, BlockScoresOp op);
func::FuncOp getBlockSoftmaxVKernel(KernelCache &cache, BlockSoftmaxVOp op);

/// The online-softmax merge of one row (ring.merge), shared by the merge
/// kernel and the accumulating attention kernel: with l = max(la, lb),
/// lse = l + log(e^(la−l) + e^(lb−l)), wa = e^(la−lse), wb = e^(lb−lse),
/// calls `body(lse, wa, wb)` unless both are −inf (then the row keeps
/// O = 0, LSE = −inf).
void emitMergeWeights(KernelBuilder &b, Value la, Value lb,
                      function_ref<void(Value lse, Value wa, Value wb)> body);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_BLOCKKERNELS_H
