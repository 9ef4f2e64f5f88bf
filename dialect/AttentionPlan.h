//===- AttentionPlan.h - how one attention spreads over a grid --*- C++ -*-===//
//
// This file declares AttentionPlan: the global problem of a ring.attention,
// the grid it runs on, which grid axis plays which role (ring, head groups,
// dim slices) and the per-rank shapes that follow. It is derived from the
// operands' upstream `shard` annotations, with a precise diagnostic for every
// spec ringc cannot compile. Passes, the driver and the artifact manifest all
// read the same plan.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_DIALECT_ATTENTIONPLAN_H
#define RINGC_DIALECT_ATTENTIONPLAN_H

#include "dialect/RingOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <string>

namespace mlir::ring {

/// The three roles a grid axis can play. The numbering is shared with the
/// runtime (ringrt_axis) and the manifest.
enum class GridRole : int { Ring = 0, HeadGroup = 1, DimSlice = 2 };
constexpr int kNumGridRoles = 3;

/// Returns "ring", "head_groups" or "dim_slices".
StringRef gridRoleName(GridRole role);

struct AttentionPlan {
  // The global problem.
  int64_t batch = 1, heads = 1, kvHeads = 1, seq = 1, headDim = 1;
  Type elementType;
  MaskKind mask = MaskKind::none;
  Balance balance = Balance::none;
  double scale = 1.0;

  // The grid. An empty name means a single device.
  std::string grid;
  SmallVector<int64_t> gridShape;
  /// Grid axis of each role, or -1 when the role is absent (size 1).
  std::array<int64_t, kNumGridRoles> axisOfRole = {-1, -1, -1};

  /// P, n and m: the sizes of the ring, head-group and dim-slice axes.
  int64_t size(GridRole role) const;
  int64_t ring() const { return size(GridRole::Ring); }
  int64_t headGroups() const { return size(GridRole::HeadGroup); }
  int64_t dimSlices() const { return size(GridRole::DimSlice); }
  int64_t numRanks() const { return ring() * headGroups() * dimSlices(); }
  bool isCausal() const { return mask == MaskKind::causal; }

  // Per-rank shapes.
  int64_t localHeads() const { return heads / headGroups(); }
  int64_t localKvHeads() const { return kvHeads / headGroups(); }
  int64_t localSeq() const { return seq / ring(); }
  int64_t localHeadDim() const { return headDim / dimSlices(); }
  SmallVector<int64_t> localQShape() const;
  SmallVector<int64_t> localKVShape() const;
  SmallVector<int64_t> localLseShape() const;

  /// "bf16", "f16" or "f32".
  StringRef dtypeName() const;
  /// A canonical one-line description; equal plans print equally.
  std::string str() const;
  /// FNV-1a hash of str(): the plan hash all ranks must agree on.
  uint64_t hash() const;

  /// The plan as the `#ring.plan` attribute, and back.
  PlanAttr toAttr(MLIRContext *ctx) const;
  static AttentionPlan fromAttr(PlanAttr attr);
};

/// Derives the plan of `op` from the `shard.shard` annotations of its
/// operands. On a spec ringc cannot compile, emits an error at `op` that
/// names the values and what would be valid, and fails.
FailureOr<AttentionPlan> deriveAttentionPlan(AttentionOp op,
                                             SymbolTableCollection &symbols);

} // namespace mlir::ring

#endif // RINGC_DIALECT_ATTENTIONPLAN_H
