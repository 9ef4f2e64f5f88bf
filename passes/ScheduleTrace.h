//===- ScheduleTrace.h - per-rank traces of a ring schedule ----*- C++ -*-===//
//
// This file declares what ring-verify-schedule records when it executes a
// per-rank function for one grid coordinate (the ranks and their event
// traces), the global position of a local row, and the prover of backward
// schedules (VerifyBackward.cpp), which works on those traces.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_SCHEDULETRACE_H
#define RINGC_PASSES_SCHEDULETRACE_H

#include "dialect/AttentionPlan.h"
#include "dialect/Visibility.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/Support/FormatVariadic.h"

#include <string>

namespace mlir::ring {

/// One rank of the grid.
struct Rank {
  SmallVector<int64_t> axisCoords;
  /// Coordinates by GridRole: ring, head group, dim slice, a2a.
  int64_t role[kNumGridRoles + 1] = {0, 0, 0, 0};
  /// Whether the plan has an a2a axis (str() names the coordinate then).
  bool hasA2A = false;
  std::string str() const {
    return "rank (ring " + std::to_string(role[0]) + ", head group " +
           std::to_string(role[1]) + ", dim slice " + std::to_string(role[2]) +
           (hasA2A ? ", a2a " + std::to_string(role[3]) : std::string()) + ")";
  }
};

/// What one rank does, in order.
struct Event {
  enum Kind {
    Block,
    Scores,
    Merge,
    Fill,
    Finalize,
    Start,
    Wait,
    Shift,
    Reduce,
    /// ring.block_attention_backward (owners evaluated).
    GradBlock,
    /// ring.zero, ring.grad_delta, ring.accumulate, ring.convert.
    GradOther,
    /// ring.all_to_all.
    AllToAll,
    /// ring.sum_replicas (the a2a backward's replicated dK/dV).
    SumReplicas,
    /// The whole layer: ring.project, ring.out_project,
    /// ring.output_all_reduce or ring.output_reduce_scatter.
    Project,
    OutProject,
    OutputReduce
  };
  Kind kind;
  Operation *op;
  int64_t stage = -1;
  int64_t qOwner = -1, kvOwner = -1;
  /// ring.sum_replicas: its `rows` on this rank (-1: all rows).
  int64_t rows = -1;
};

/// How local rows [q0, q0+qn) of ring rank `qOwner` relate to the mask
/// (causal and sliding window) against rows [k0, k0+kn) of ring rank
/// `kOwner`'s block; padding rows see nothing and are seen by nothing
/// (Visibility.h classifyRows). The rows must not straddle a zigzag chunk
/// boundary (the checkers count in units that no block boundary splits).
inline BlockVisibility rowsVisibility(const AttentionPlan &plan,
                                      int64_t qOwner, int64_t q0, int64_t qn,
                                      int64_t kOwner, int64_t k0,
                                      int64_t kn) {
  return classifyRows(plan.tokenRows(qOwner, q0, qn),
                      plan.tokenRows(kOwner, k0, kn), plan.isCausal(),
                      plan.windowLeft, plan.windowRight);
}

/// Checks the masks a block op applies: mask<causal> only under a causal
/// plan, a window only if it is the plan's, and the plan's `seq_len` when
/// its layout has padding rows (the kernels mask them from it). Emits the
/// error at `op` (prefixed by `where`) and fails otherwise.
inline LogicalResult checkBlockMaskAttrs(Operation *op,
                                         const AttentionPlan &plan,
                                         const std::string &where) {
  auto mask = op->getAttrOfType<MaskKindAttr>("mask");
  if (!plan.isCausal() && mask && mask.getValue() == MaskKind::causal)
    return op->emitError() << where
                           << "applies a causal mask, but the attention has "
                              "no mask";
  if (auto w = op->getAttrOfType<WindowAttr>("window"))
    if (w != plan.windowAttr(op->getContext()))
      return op->emitError()
             << where << "applies the window " << w << ", but the attention's "
             << (plan.hasWindow() ? "is " : "has none")
             << (plan.hasWindow()
                     ? llvm::formatv("<left = {0}, right = {1}>",
                                     plan.windowLeft, plan.windowRight)
                           .str()
                     : std::string());
  auto seqLen = op->getAttrOfType<IntegerAttr>("seq_len");
  if (plan.hasSeqPadding() && (!seqLen || seqLen.getInt() != plan.seq))
    return op->emitError()
           << where << "has no seq_len = " << plan.seq
           << ", but the sequence does not divide into the layout's parts: "
              "the padding rows would not be masked";
  return success();
}

/// Proves a backward schedule from its traces (whose transfers
/// checkMatching already matched): K/V and dK/dV data flow through the
/// buffers of every ring in `rings` (grid rank indices ordered by ring
/// coordinate), no use of in-flight buffers, every visible (q, k) pair
/// contributing exactly once to dQ and to dK/dV, and every dK/dV
/// accumulator reaching its owner after exactly P − 1 hops (a sliding
/// window's halo: max(A, B), its longer return chain). `attn` holds
/// the nine buffers (q, k, v, o, lse, do, dq, dk, dv) the ring backward
/// reads and writes: the function's arguments, or with an a2a axis the
/// head-sharded buffers around which the all-to-alls (proved by the
/// caller) exchange them.
LogicalResult verifyBackwardTraces(func::FuncOp func, const AttentionPlan &plan,
                                   ArrayRef<Rank> ranks,
                                   ArrayRef<SmallVector<Event>> traces,
                                   ArrayRef<SmallVector<int64_t>> rings,
                                   ArrayRef<Value> attn);

/// The buffers the attention of a per-rank function reads and writes: the
/// function's (q, k, v, o, lse) arguments, or, for a layer, the buffers its
/// ring.project ops write from x and wq/wk/wv, the O that its
/// ring.out_project reads and its lse argument.
struct AttentionBuffers {
  Value q, k, v, o, lse;
};

/// Finds the AttentionBuffers of `func`; for a layer, every projection must
/// be at the top level of the function and read the function's own x and
/// weights. Emits an error and fails otherwise.
FailureOr<AttentionBuffers> findAttentionBuffers(func::FuncOp func,
                                                 const AttentionPlan &plan);

/// Proves the layer part of a whole-layer schedule from its traces (after
/// the attention itself is proved): on every rank Q, K and V are projected
/// once each from x with the right weight columns (and bias) before any
/// block reads them; O is projected once with W_o after it is finalized;
/// the partial Y goes through exactly one output reduction into the y
/// argument (with b_o when the plan has biases), of the kind the plan's
/// layer_output names; the reductions of the head-group × dim-slice ranks
/// of each ring coordinate match (same kind and bytes), so none would wait
/// forever; and for a reduce-scatter, the shares list one entry per rank of
/// the group, are the plan's (the split the header and manifest give), and
/// every local row of every ring coordinate is owned by exactly one rank.
LogicalResult verifyLayerTraces(func::FuncOp func, const AttentionPlan &plan,
                                const AttentionBuffers &buffers,
                                ArrayRef<Rank> ranks,
                                ArrayRef<SmallVector<Event>> traces);

} // namespace mlir::ring

#endif // RINGC_PASSES_SCHEDULETRACE_H
