//===- Visibility.h - which keys a query sees ------------------*- C++ -*-===//
//
// This file declares the one definition of the attention mask that the
// schedule, the checker and the kernels share: key j is visible to query i
// iff lo <= pos(i) − pos(j) <= hi, where [lo, hi] follows from the causal
// mask and the sliding window (#ring.window). Sets of position differences
// between a row range of queries and one of keys (DiffSet) let the schedule
// classify whole blocks (invisible, fully visible, cut by the mask) exactly,
// for contiguous and for striped layouts. With padded parts (a sequence
// that does not divide into the layout's parts, ringrt/Layout.h) only the
// rows that hold tokens take part (TokenRows), and the kernels give padding
// rows positions no mask admits (paddingKeyPosition/paddingQueryPosition).
// Packed documents (max_docs, cu_seqlens) are a run-time term: a key must
// also lie in its query's document [cu[d], cu[d+1]), which the kernels
// intersect into [pos(q) − hi, pos(q) − lo]; at compile time nothing is
// known of them, so the block classification here is unchanged (a block
// it calls visible may still be empty at run time, never the reverse).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_DIALECT_VISIBILITY_H
#define RINGC_DIALECT_VISIBILITY_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <limits>
#include <utility>

namespace mlir::ring {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

/// The visible range [lo, hi] of pos(query) − pos(key): lo = 0 under a
/// causal mask, else −right (INT64_MIN when right = −1); hi = left
/// (INT64_MAX when left = −1). Without a window (−1, −1) this is the plain
/// causal or unmasked attention.
std::pair<int64_t, int64_t> windowDiffBounds(bool causal, int64_t left,
                                             int64_t right);

/// windowDiffBounds with unlimited (and larger) sides clamped to ±seq:
/// every difference of positions in a sequence of `seq` tokens lies in
/// (−seq, seq), so the visibility is the same, and kernels can form
/// pos(q) − hi and pos(q) − lo without overflow.
std::pair<int64_t, int64_t> clampedDiffBounds(bool causal, int64_t left,
                                              int64_t right, int64_t seq);

/// Checks the two sides of a window: each −1 (unlimited) or a token count
/// >= 0, not both −1 (that is no window; omit it).
LogicalResult verifyWindow(int64_t left, int64_t right,
                           function_ref<InFlightDiagnostic()> emitError);

/// The most documents a varlen plan may pack (max_docs): cu_seqlens holds
/// max_docs + 1 int32 boundaries, which the entry scans once per call.
constexpr int64_t kMaxDocs = int64_t(1) << 24;

/// Checks `max_docs` of a spec: 1 <= N <= kMaxDocs (documents may be
/// empty, so N may exceed the sequence length).
LogicalResult verifyMaxDocs(int64_t maxDocs,
                            function_ref<InFlightDiagnostic()> emitError);

/// The differences pos(i) − pos(j) over a block of queries and keys: the
/// arithmetic progression lo, lo + step, ..., hi (contiguous layouts have
/// step 1, the striped layout step P).
struct DiffSet {
  int64_t lo, hi, step = 1;

  /// The block of query positions q0 + s·a (a in [0, qn)) against key
  /// positions k0 + s·b (b in [0, kn)), with stride s.
  static DiffSet of(int64_t q0, int64_t qn, int64_t k0, int64_t kn,
                    int64_t stride = 1) {
    return {q0 - (k0 + (kn - 1) * stride), q0 + (qn - 1) * stride - k0,
            stride};
  }
  /// Whether some difference lies in [a, b].
  bool intersects(int64_t a, int64_t b) const;
  /// Whether every difference that lies in [c, ∞) also lies in [a, b]
  /// (c = INT64_MIN: every difference).
  bool within(int64_t a, int64_t b,
              int64_t c = std::numeric_limits<int64_t>::min()) const;
};

/// How a block of (query, key) pairs relates to the mask.
struct BlockVisibility {
  /// Some pair is visible: the block must be computed.
  bool any = false;
  /// Some pair is hidden by the causal mask (the block needs mask<causal>).
  bool causalCut = false;
  /// Some causally visible pair is outside the window (the block needs the
  /// window mask).
  bool windowCut = false;
};

/// Classifies the pairs with differences `d` under `causal` and the window
/// (left, right; −1, −1 for none).
BlockVisibility classifyPairs(const DiffSet &d, bool causal, int64_t left,
                              int64_t right);

/// The token rows among some local rows of one rank's buffer: their
/// positions form the progression first, first + stride, ... (count terms).
/// With padded parts a part's tokens are a prefix of its rows, so the rows
/// of one part that hold tokens are always such a progression; count = 0
/// when every row is padding.
struct TokenRows {
  int64_t first = 0, count = 0, stride = 1;
};

/// Classifies the (query, key) pairs of token rows `q` against `k`: padding
/// rows see nothing and are seen by nothing, so a block without a token on
/// either side is invisible.
BlockVisibility classifyRows(const TokenRows &q, const TokenRows &k,
                             bool causal, int64_t left, int64_t right);

/// The number of visible (query, key) pairs of token rows `q` against `k`
/// under `causal` and the window (left, right; −1, −1 for none): exact, in
/// O(q.count) (the cost model's work of a block a window cuts through).
int64_t countVisiblePairs(const TokenRows &q, const TokenRows &k, bool causal,
                          int64_t left, int64_t right);

/// The positions the kernels give the padding rows of padded parts. With
/// `seq` >= L the clamp of clampedDiffBounds (lo, hi in [−seq, seq]) and a
/// kernel that always tests the lower side, kp <= qp − lo, when the layout
/// has padding: a padding key (3·seq) fails it for every query (qp − lo <
/// 2·seq), and a padding query (−3·seq) for every key (qp − lo <= −2·seq <
/// 0 <= kp). Causal, window and padding then are one test; positions stay
/// within ±3·seq (i32 on the GPU while 3·seq < 2^31).
inline int64_t paddingKeyPosition(int64_t seq) { return 3 * seq; }
inline int64_t paddingQueryPosition(int64_t seq) { return -3 * seq; }

} // namespace mlir::ring

#endif // RINGC_DIALECT_VISIBILITY_H
