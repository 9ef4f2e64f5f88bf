//===- AttentionKernel.h - blockwise flash attention on the CPU -*- C++ -*-===//
//
// This file declares the builders of the CPU kernels of ring.block_attention
// and ring.block_attention_accumulate.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_ATTENTIONKERNEL_H
#define RINGC_CODEGEN_CPU_ATTENTIONKERNEL_H

#include "codegen/cpu/KernelBuilder.h"

namespace mlir::ring::cpu {

/// Returns (creating it once per variant) the kernel of `op`:
///   func.func private @ring_cpu_block_attention_N(%q, %k, %v, %po, %pl,
///       %q_owner: index, %kv_owner: index)
/// with the op's buffer types; row ranges, mask, layout, ring size and
/// scale are baked in.
func::FuncOp getBlockAttentionKernel(KernelCache &cache, BlockAttentionOp op,
                                     int64_t queryTile);

/// The same for the accumulating form: @ring_cpu_block_attention_N(%q, %k,
/// %v, %acc_o, %acc_lse, %q_owner, %kv_owner) merges each row into the
/// accumulator (or, with `first`, writes it there).
func::FuncOp getBlockAttentionKernel(KernelCache &cache,
                                     BlockAttentionAccumulateOp op,
                                     int64_t queryTile);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_ATTENTIONKERNEL_H
