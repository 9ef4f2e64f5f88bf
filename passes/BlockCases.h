//===- BlockCases.h - which blocks each ring stage computes ----*- C++ -*-===//
//
// This file declares the compile-time classification of the (query block,
// key block) work of each ring stage from the layout and the mask: which
// row ranges are computed, under which mask, and for which ranks (those
// whose source rank precedes them on the ring, or follows them).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_BLOCKCASES_H
#define RINGC_PASSES_BLOCKCASES_H

#include "dialect/AttentionPlan.h"
#include "dialect/RingDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"
#include <string>
#include "llvm/Support/MathExtras.h"

namespace mlir::ring {

/// For which ranks a block case applies at a stage, with src = (p − t) mod P
/// the rank whose K/V block the stage holds.
enum class BlockCondition { Always, SrcBeforeRank, SrcAfterRank };

/// One block computation: local query rows [q0, q0+qn) against K/V rows
/// [k0, k0+kn) of the stage's block.
struct BlockCase {
  BlockCondition condition;
  int64_t q0, qn, k0, kn;
  MaskKind mask;
  /// Only ring ranks in [rankLo, rankHi] compute the block (windows: which
  /// ranks the block is visible to depends on the rank, not only on src).
  int64_t rankLo = 0, rankHi = INT64_MAX;
  /// The sliding window cuts through the block: the kernel masks it.
  bool window = false;
  /// Score elements per (batch, head): qn·kn, saturated at INT64_MAX so that
  /// a cost estimate for a huge sequence cannot wrap (the plan verifier
  /// bounds every size that a schedule allocates).
  int64_t work() const {
    int64_t w;
    return llvm::MulOverflow(qn, kn, w) ? INT64_MAX : w;
  }
};

/// The blocks of stage `stage` of a ring of `ringSize` ranks holding
/// `localSeq` tokens each. Fully masked blocks are absent; fully visible
/// blocks have no mask.
SmallVector<BlockCase> classifyStage(Balance layout, bool causal,
                                     int64_t ringSize, int64_t localSeq,
                                     int64_t stage);

/// The blocks of the stage whose K/V block is that of ring rank
/// (p − offset) mod P under the plan's mask and sliding window, classified
/// exactly per rank (Visibility.h): blocks wholly outside the window are
/// absent, a block the window cuts through has `window` set, and each case
/// names the ranks it applies to. Offsets < 0 are the backward stages of a
/// bidirectional schedule. Without a window this is classifyStage.
SmallVector<BlockCase> classifyStage(const AttentionPlan &plan,
                                     int64_t offset);

/// The stages of a schedule: the offset of each (stage i holds the K/V
/// block of ring rank (p − offsets[i]) mod P). Without a window, or when a
/// window leaves blocks visible at every distance, the whole ring:
/// 0, 1, ..., P − 1 (P − 1 forward shifts). With a window that hides every
/// block beyond some distances, the ring is truncated: 0, 1, ..., A
/// forward (blocks of the A predecessors) and then −1, ..., −B (of the B
/// successors, shifted backward starting from the rank's own block), with
/// A + B < P − 1 chosen as small as possible: a halo exchange.
struct RingStages {
  SmallVector<int64_t> offsets;
  int64_t forward = 0, backward = 0;
  /// Stages (and shifts of K and V) the window saves against P.
  int64_t saved(int64_t ringSize) const {
    return ringSize - static_cast<int64_t>(offsets.size());
  }
};
RingStages planRingStages(const AttentionPlan &plan);

/// Whether case `c` applies to ring rank `rank` when the stage holds the
/// K/V block of rank `src`.
bool appliesTo(const BlockCase &c, int64_t src, int64_t rank);

/// The fraction of `c`'s score elements that the causal mask leaves visible
/// (1 for an unmasked block): what a kernel that skips fully masked tiles
/// computes, up to the tiles straddling the diagonal.
double visibleFraction(const BlockCase &c);

/// The score elements (per batch and head) that rank `rank` computes at
/// `stage`: the sum of the work of the cases that apply to it.
int64_t stageWork(Balance layout, bool causal, int64_t ringSize,
                  int64_t localSeq, int64_t stage, int64_t rank);

/// What one rank sends in a ring all-reduce of `copies` buffers of `bytes`
/// each over `m` ranks, copies · 2(m−1)/m · bytes, as text for a remark:
/// exact where it fits 64 bits, else in floating point (never wrapped).
std::string ringAllReduceSentBytes(int64_t bytes, int64_t m,
                                   int64_t copies = 1);

/// Emits `emit(c)` for every case of one stage at `b`: the unconditional
/// ones directly, the rank-dependent ones in the two branches of an scf.if
/// on src < rank (index values). Shared by the forward and backward
/// schedules, so that both skip exactly the same blocks.
void emitBlockCases(OpBuilder &b, Location loc, ArrayRef<BlockCase> cases,
                    Value src, Value rank,
                    function_ref<void(const BlockCase &)> emit);

/// The K/V source of a stage with `offset` on ring rank `rank` (an index
/// value): (rank − offset) mod P, emitted at `b`.
Value emitStageSource(OpBuilder &b, Location loc, Value rank, int64_t offset,
                      int64_t ringSize);

/// The `seq_len` attribute of the plan's block ops: the sequence length
/// when the layout has padding rows (AttentionPlan::hasSeqPadding), else
/// null. Shared by the forward and backward schedules.
IntegerAttr seqLenAttr(Builder &b, const AttentionPlan &plan);

} // namespace mlir::ring

#endif // RINGC_PASSES_BLOCKCASES_H
