//===- Passes.h - ringc code generation passes ------------------*- C++ -*-===//
//
// This file declares the conversion passes of ringc's code generators and
// their registration.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_PASSES_H
#define RINGC_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace ring {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

namespace cpu {
class KernelCache;

/// Options of the CPU lowering patterns.
struct RingToCPUOptions {
  /// Query rows per tile of the block-attention kernel (see
  /// cpu::kDefaultQueryTile).
  int64_t queryTile = 6;
};

/// Adds the patterns that lower the per-rank ring ops (and
/// shard.process_multi_index) inside a per-rank function whose first two
/// arguments are the ringrt context and the status cell. Kernels are created
/// through `kernels`, once per variant.
void populateRingToCPUPatterns(RewritePatternSet &patterns,
                               KernelCache &kernels,
                               const RingToCPUOptions &options);
} // namespace cpu

} // namespace ring
} // namespace mlir

#endif // RINGC_CODEGEN_PASSES_H
