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
#include "dialect/Visibility.h"
#include "runtime/include/ringrt/Layout.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Support/LLVM.h"

#include <array>
#include <optional>
#include <string>

namespace mlir::ring {

/// The roles a grid axis can play. The numbering is shared with the runtime
/// (ringrt_axis) and the manifest. The first kNumGridRoles are the roles of
/// the attention itself (ring.local_attention takes one coordinate each);
/// the all-to-all (Ulysses) axis A2A only exchanges Q, K, V, O and LSE
/// around it (ring.all_to_all) and is kept apart, in AttentionPlan::a2aAxis.
enum class GridRole : int { Ring = 0, HeadGroup = 1, DimSlice = 2, A2A = 3 };
constexpr int kNumGridRoles = 3;

/// Returns "ring", "head_groups", "dim_slices" or "a2a".
StringRef gridRoleName(GridRole role);

//===----------------------------------------------------------------------===//
// Limits
//===----------------------------------------------------------------------===//
//
// The limits every plan must respect (README "Limits"); the plan verifier
// reports each with its value and the reason.

/// At most this many ranks (ring x head_groups x dim_slices, and the product
/// of all grid axes). ring-verify-schedule executes every rank's program
/// symbolically, which costs ranks x ring stages of events; 1024 ranks keep
/// the check (and the P-stage unrolling of ring-schedule) to about a second.
constexpr int64_t kMaxRanks = 1024;

/// The kernels compute in fp32 and fold log2(e) into the scale, so scale and
/// scale*log2(e) must be normal fp32 numbers: scale in
/// [FLT_MIN, FLT_MAX / log2(e)].
constexpr double kLog2E = 1.4426950408889634;
double minScale();
double maxScale();

/// Hint computation is bounded: at most this many trial divisors.
constexpr int64_t kMaxHintTrials = 1 << 20;

/// The product of `dims` times `init`, or nullopt on signed 64-bit overflow
/// (or a negative dimension).
std::optional<int64_t> checkedProduct(ArrayRef<int64_t> dims,
                                      int64_t init = 1);

/// "1, 2, 4, 8, ..., 64": the common divisors of `a` and `b` (`a` alone
/// when equal), at most 16, found in bounded time (trial division up to
/// kMaxHintTrials; a longer list ends with "...").
std::string divisorsHint(int64_t a, int64_t b);

/// Checks a scale value against the fp32 range above; `what` names it.
LogicalResult verifyScale(double scale, int64_t headDim,
                          function_ref<InFlightDiagnostic()> emitError);

/// The layout's balance in ringrt's spelling (ringrt/Layout.h holds the
/// sequence maps the compiler, the runtime and ring-run share).
ringrt::layout::Balance toRuntimeBalance(Balance b);

/// Checks the `seq_len` attribute of a block op: a sequence of `seqLen`
/// tokens under `layout` over `ringSize` ranks must have `rows` local rows
/// (ringrt/Layout.h).
LogicalResult verifySeqLen(std::optional<uint64_t> seqLen, Balance layout,
                           int64_t ringSize, int64_t rows,
                           function_ref<InFlightDiagnostic()> emitError);

struct AttentionPlan {
  // The global problem.
  int64_t batch = 1, heads = 1, kvHeads = 1, seq = 1, headDim = 1;
  Type elementType;
  MaskKind mask = MaskKind::none;
  Balance balance = Balance::none;
  double scale = 1.0;
  /// The whole layer (ring.attention_layer): d_model > 0 adds the QKV
  /// projections of X [B, L, d_model] before the ring and the output
  /// projection to Y [B, L, d_model] after it; 0 is attention alone.
  int64_t dModel = 0;
  /// Whether the layer's projections add biases (bq, bk, bv, bo).
  bool bias = false;
  /// How the layer reduces Y over the head-group x dim-slice ranks
  /// (#ring.layer_output): an all-reduce, or a reduce-scatter onto the
  /// sequence.
  LayerOutput layerOutput = LayerOutput::all_reduce;
  /// Sliding window sides in tokens (#ring.window); −1 = unlimited, both −1
  /// = no window.
  int64_t windowLeft = -1, windowRight = -1;
  /// Packed variable-length documents (varlen): the most documents a
  /// call's cu_seqlens holds, or 0 without documents. The per-rank function
  /// and the entries then take cu_seqlens (max_docs + 1 int32 boundaries).
  int64_t maxDocs = 0;

  // The grid. An empty name means a single device.
  std::string grid;
  SmallVector<int64_t> gridShape;
  /// Grid axis of each role, or -1 when the role is absent (size 1).
  std::array<int64_t, kNumGridRoles> axisOfRole = {-1, -1, -1};

  /// Grid axis of the all-to-all (Ulysses) role, or -1. Its ranks hold
  /// sequence shards of the ring's local block; an all-to-all turns them
  /// into head shards of the whole local block before the attention and
  /// back after it (DESIGN.md section 1, "All-to-all").
  int64_t a2aAxis = -1;

  /// P, n, m and U: the sizes of the ring, head-group, dim-slice and
  /// all-to-all axes.
  int64_t size(GridRole role) const;
  int64_t ring() const { return size(GridRole::Ring); }
  int64_t headGroups() const { return size(GridRole::HeadGroup); }
  int64_t dimSlices() const { return size(GridRole::DimSlice); }
  int64_t a2a() const { return size(GridRole::A2A); }
  int64_t numRanks() const {
    return ring() * headGroups() * dimSlices() * a2a();
  }
  bool isCausal() const { return mask == MaskKind::causal; }
  bool isLayer() const { return dModel > 0; }
  bool hasWindow() const { return windowLeft != -1 || windowRight != -1; }
  bool hasDocuments() const { return maxDocs > 0; }
  /// The #ring.window attribute, or null without a window.
  WindowAttr windowAttr(MLIRContext *ctx) const;
  /// Takes the sides of `w` (no window when null): the spec ops
  /// (ring.attention, ring.attention_layer) and #ring.plan share it.
  void setWindow(WindowAttr w);

  // Per-rank shapes of the attention (after the all-to-all when U > 1): the
  // heads of one a2a rank, the ring's whole local block of tokens.
  int64_t localHeads() const { return heads / headGroups() / a2a(); }
  /// Key/value heads of one a2a rank: Hkv / (n·U), or 1 when U exceeds the
  /// group's Hkv / n and the heads are replicated (each a2a rank gets the
  /// one key/value head its query heads use).
  int64_t localKvHeads() const {
    return std::max<int64_t>(kvHeads / headGroups() / a2a(), 1);
  }
  /// Whether the all-to-all replicates key/value heads (Hkv / n < U).
  bool replicatesKvHeads() const { return kvHeads / headGroups() < a2a(); }
  // Per-rank shapes.
  /// Local rows of every rank's buffers: ceil(L/P), or 2·ceil(L/2P) for
  /// zigzag (ringrt/Layout.h: rows past a rank's tokens are padding).
  int64_t localSeq() const;
  /// Whether L does not divide into the layout's parts, so that some rank's
  /// buffers hold padding rows the kernels must mask (the block ops then
  /// carry `seq_len`).
  bool hasSeqPadding() const;
  /// The global token of local row `row` of ring rank `owner`, or -1 for a
  /// padding row; and the tokens `owner` holds (ringrt/Layout.h).
  int64_t globalToken(int64_t owner, int64_t row) const;
  int64_t rankTokens(int64_t owner) const;
  /// The token rows among local rows [r0, r0 + n) of ring rank `owner`
  /// (Visibility.h), which must lie in one part (not straddle a zigzag
  /// chunk boundary).
  TokenRows tokenRows(int64_t owner, int64_t r0, int64_t n) const;
  int64_t localHeadDim() const { return headDim / dimSlices(); }
  SmallVector<int64_t> localQShape() const;
  SmallVector<int64_t> localKVShape() const;
  SmallVector<int64_t> localLseShape() const;
  /// Layer shapes: X [B, L/P, d_model].
  SmallVector<int64_t> localXShape() const;

  // The layer's Y reduction over the k = n·m ranks of a ring coordinate.
  bool scattersOutput() const {
    return isLayer() && layerOutput == LayerOutput::reduce_scatter;
  }
  /// k: the ranks that share a ring coordinate and sum their partial Y.
  int64_t outputGroupSize() const { return headGroups() * dimSlices(); }
  /// The share index j of the rank with head group g and dim slice s:
  /// s·n + g. Dim-slice major, so that the shares of one dim slice are
  /// contiguous: the reduce-scatter runs over the dim-slice axis, then
  /// over the head-group axis inside that range, and sums in the
  /// all-reduce's order (dim slices first), giving the same bits.
  int64_t outputShareIndex(int64_t g, int64_t s) const {
    return s * headGroups() + g;
  }
  /// Rows of share j of the reduce-scatter (⌈Ll/k⌉ for j < Ll mod k, else
  /// ⌊Ll/k⌋, possibly 0) and its first local row; the whole Ll rows with an
  /// all-reduce.
  int64_t outputShareRows(int64_t j) const;
  int64_t outputShareOffset(int64_t j) const;
  /// The rows of every share, in share order.
  SmallVector<int64_t> outputShares() const;
  /// Rows of every rank's Y buffer: ⌈Ll/k⌉ with a reduce-scatter, else Ll.
  int64_t localYRows() const;
  /// Y [B, localYRows(), d_model].
  SmallVector<int64_t> localYShape() const;

  // Per-rank shapes of the C ABI (the function's q, k, v, o, lse): equal to
  // the local shapes above unless U > 1, where a rank holds all heads of its
  // head group for its share of the ring's local block (near-equal shares,
  // in buffers of ceil(localSeq/U) rows: ringrt/Layout.h a2aShareRows).
  int64_t abiSeq() const {
    return ringrt::layout::a2aRows(localSeq(), a2a());
  }
  /// Rows of the share of a2a rank `u` and its first ring-local row.
  int64_t a2aShareRows(int64_t u) const {
    return ringrt::layout::a2aShareRows(localSeq(), a2a(), u);
  }
  int64_t a2aShareStart(int64_t u) const {
    return ringrt::layout::a2aShareStart(localSeq(), a2a(), u);
  }
  /// Whether some a2a rank's share is shorter than its buffers.
  bool hasA2APadding() const { return localSeq() % a2a() != 0; }
  SmallVector<int64_t> abiQShape() const;
  SmallVector<int64_t> abiKVShape() const;
  SmallVector<int64_t> abiLseShape() const;

  /// "bf16", "f16" or "f32".
  StringRef dtypeName() const;
  /// A canonical one-line description; equal plans print equally.
  std::string str() const;
  /// FNV-1a hash of str(): the plan hash all ranks must agree on.
  uint64_t hash() const;

  /// Checks everything a pass may assume of a plan: positive sizes, axes in
  /// range and distinct, heads and head_dim that divide, sizes that fit 64-bit
  /// byte offsets, a supported element type and scale, and the limits above.
  /// Every failure is reported through `emitError` with the values and what
  /// would be valid.
  LogicalResult verify(function_ref<InFlightDiagnostic()> emitError) const;

  /// The plan as the `#ring.plan` attribute, and back.
  PlanAttr toAttr(MLIRContext *ctx) const;
  static AttentionPlan fromAttr(PlanAttr attr);
};

/// One buffer of a per-rank function's C ABI.
struct PerRankBuffer {
  StringRef name;
  SmallVector<int64_t> shape;
  Type elementType;
};

/// The buffers of the per-rank function of `plan`, in argument order:
/// (q, k, v, o, lse), plus (do, dq, dk, dv) for the backward function; for
/// a layer (x, wq, wk, wv, wo, [bq, bk, bv, bo], y, lse), the weights
/// sharded as ring.attention_layer describes (local W_q [d_model,
/// Hq/n · D/m], ...); with packed documents (max_docs) then, in either
/// form, cu_seqlens [max_docs + 1] i32. The verifier of `ring.plan`, ring-partition and the
/// entry-point generators share it.
SmallVector<PerRankBuffer> perRankBuffers(const AttentionPlan &plan,
                                          bool backward);

/// Derives the plan of `op` from the `shard.shard` annotations of its
/// operands. On a spec ringc cannot compile, emits an error at `op` that
/// names the values and what would be valid, and fails.
FailureOr<AttentionPlan> deriveAttentionPlan(AttentionOp op,
                                             SymbolTableCollection &symbols);

/// Derives the plan of a whole layer from the `shard.shard` annotations of
/// its operands (ring.attention_layer's description says which), with a
/// precise error at `op` for every spec ringc cannot compile.
FailureOr<AttentionPlan> deriveLayerPlan(AttentionLayerOp op,
                                         SymbolTableCollection &symbols);

} // namespace mlir::ring

#endif // RINGC_DIALECT_ATTENTIONPLAN_H
