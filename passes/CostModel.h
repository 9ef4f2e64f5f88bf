//===- CostModel.h - predicted time, traffic and memory of a plan -*- C++ -*-===//
//
// This file declares the cost model that `ringc --explain` / `--auto` use to
// choose a plan: for one attention problem and one candidate plan (ring ×
// a2a × head groups × dim slices, and the causal layout) on a ClusterModel,
// it predicts compute time per rank, communication bytes and time, the
// communication the schedule leaves exposed, peak memory per rank and the
// load imbalance. The formulas are documented in CostModel.cpp; this is the
// only place they live.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_COSTMODEL_H
#define RINGC_PASSES_COSTMODEL_H

#include "dialect/RingDialect.h"
#include "passes/ClusterModel.h"

#include <string>
#include <vector>

namespace mlir::ring {

/// The global attention problem, independent of how it is spread.
struct ProblemShape {
  int64_t batch = 1, heads = 1, kvHeads = 1, seq = 1, headDim = 1;
  bool causal = false;
  int64_t elementBytes = 2; ///< bf16/f16: 2, f32: 4
  /// The whole layer (d_model > 0): the QKV projections of X [B, L, d_model]
  /// before the ring, the output projection after it and the all-reduce of
  /// the fp32 partial Y over head groups × dim slices. 0: attention alone.
  int64_t dModel = 0;
  /// The layer's Y is reduce-scattered onto the sequence (layer_output =
  /// reduce_scatter) rather than all-reduced.
  bool scatterOutput = false;
  /// Sliding window sides in tokens (−1 = unlimited; both −1 = none): the
  /// ring runs only the stages whose blocks some rank can see (a halo
  /// exchange when the window is short), and blocks count their visible
  /// pairs.
  int64_t windowLeft = -1, windowRight = -1;
  bool hasWindow() const { return windowLeft != -1 || windowRight != -1; }
};

/// One candidate plan. Ranks are laid out row-major over (ring, a2a, head
/// groups, dim slices): dim slices are innermost (their score all-reduce is
/// the heaviest traffic) and the ring outermost (across nodes first).
struct PlanShape {
  int64_t ring = 1, a2a = 1, headGroups = 1, dimSlices = 1;
  Balance layout = Balance::none;

  int64_t ranks() const { return ring * a2a * headGroups * dimSlices; }
  /// Spec-key form: "ring=4,head_groups=2,dim_slices=1,balance=zigzag"
  /// (a2a=U only when U > 1).
  std::string str() const;
};

/// What the model predicts for one plan; times in seconds, sizes in bytes,
/// all per rank (the slowest rank where ranks differ).
struct Prediction {
  double computeTime = 0;   ///< kernels and merges, summed over stages
  double commBytes = 0;     ///< everything the rank sends
  double commTime = 0;      ///< if nothing overlapped
  double exposedComm = 0;   ///< communication time not hidden by compute
  double allReduceBytes = 0; ///< dim-slice score all-reduce (sent)
  double allToAllBytes = 0;  ///< a2a of Q, K, V, O, LSE (sent)
  double projectionTime = 0; ///< layer: the QKV and output GEMMs
  double outputReduceBytes = 0; ///< layer: reduction of fp32 Y (sent)
  double outputReduceTime = 0;  ///< layer: its time (blocking)
  bool outputScattered = false; ///< layer: a reduce-scatter, not all-reduce
  double peakMemory = 0;
  double imbalance = 1;     ///< max over ring ranks of work / mean work
  int64_t ringStages = 1;   ///< stages the ring runs (P, fewer with a window)
  double totalTime = 0;     ///< the prediction
  bool ringCrossesNodes = false;
  bool kvReplicated = false; ///< a2a > key/value heads per head group
};

/// Predicts `plan` for `problem` on `cluster` with the target's `kernels`.
/// `overlap`: the schedule overlaps K/V shifts with compute (ring-overlap);
/// false for `ringc --no-overlap`. The plan must be valid for the problem.
/// `fuseMerge`: the fused path merges in the kernel's epilogue
/// (ring-fuse-merge); false for `ringc --no-fuse-merge`.
Prediction predictPlan(const ProblemShape &problem, const PlanShape &plan,
                       const ClusterModel &cluster, const KernelModel &kernels,
                       bool overlap, bool fuseMerge = true);

/// The a2a rules: the degree must divide the query heads of a head group,
/// and the sequence split over ring × a2a (× 2 for zigzag). Returns the
/// reason a plan breaks them ("a2a 16 > 8 heads"), or "".
std::string checkAllToAll(const ProblemShape &problem, const PlanShape &plan);

/// Why `loser` is predicted slower than `best`: the largest term of the
/// difference ("score all-reduce 4.8 GB", "load imbalance 1.9x", ...).
std::string lossReason(const PlanShape &loserPlan, const Prediction &loser,
                       const Prediction &best);

/// The layer rule of the cost model: the whole layer runs on ring × head
/// groups × dim slices grids only (no a2a). Returns the reason, or "".
std::string checkLayer(const ProblemShape &problem, const PlanShape &plan);

/// "4.8 GB", "512 KB", ...: decimal units, three significant digits.
std::string formatBytes(double bytes);

} // namespace mlir::ring

#endif // RINGC_PASSES_COSTMODEL_H
