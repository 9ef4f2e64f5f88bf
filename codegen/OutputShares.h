//===- OutputShares.h - the reduce-scatter's shares in code -----*- C++ -*-===//
//
// This file declares the helper both targets use to lower
// ring.output_reduce_scatter: the op's `shares` as a constant i64 array in
// the module, whose address the ringrt codegen ABI takes
// (ringrt_cg_reduce_scatter_rows_sum_f32, ringrt_cg_output_share).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_OUTPUTSHARES_H
#define RINGC_CODEGEN_OUTPUTSHARES_H

#include "dialect/RingOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::ring {

/// The address (!llvm.ptr) of a private constant global holding `op`'s
/// shares as i64, created once per distinct list in the enclosing module.
Value outputSharesAddress(OpBuilder &b, Location loc, OutputReduceScatterOp op);

} // namespace mlir::ring

#endif // RINGC_CODEGEN_OUTPUTSHARES_H
