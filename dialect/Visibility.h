//===- Visibility.h - which keys a query sees ------------------*- C++ -*-===//
//
// This file declares the one definition of the attention mask that the
// schedule, the checker and the kernels share: key j is visible to query i
// iff lo <= pos(i) − pos(j) <= hi, where [lo, hi] follows from the causal
// mask and the sliding window (#ring.window). Sets of position differences
// between a row range of queries and one of keys (DiffSet) let the schedule
// classify whole blocks (invisible, fully visible, cut by the mask) exactly,
// for contiguous and for striped layouts.
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

} // namespace mlir::ring

#endif // RINGC_DIALECT_VISIBILITY_H
