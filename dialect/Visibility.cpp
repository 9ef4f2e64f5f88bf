//===- Visibility.cpp - which keys a query sees ----------------*- C++ -*-===//
//
// This file implements the shared mask definition (Visibility.h) and the
// exact classification of blocks of position differences.
//
//===----------------------------------------------------------------------===//

#include "dialect/Visibility.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <optional>

using namespace mlir;
using namespace mlir::ring;

std::pair<int64_t, int64_t> mlir::ring::windowDiffBounds(bool causal,
                                                         int64_t left,
                                                         int64_t right) {
  int64_t lo = causal ? 0
               : right < 0 ? std::numeric_limits<int64_t>::min()
                           : -right;
  int64_t hi = left < 0 ? kUnbounded : left;
  return {lo, hi};
}

std::pair<int64_t, int64_t> mlir::ring::clampedDiffBounds(bool causal,
                                                          int64_t left,
                                                          int64_t right,
                                                          int64_t seq) {
  auto [lo, hi] = windowDiffBounds(causal, left, right);
  return {std::clamp(lo, -seq, seq), std::clamp(hi, -seq, seq)};
}

LogicalResult
mlir::ring::verifyWindow(int64_t left, int64_t right,
                         function_ref<InFlightDiagnostic()> emitError) {
  for (auto [name, v] : {std::pair<const char *, int64_t>{"left", left},
                         {"right", right}})
    if (v < -1)
      return emitError() << "window " << name << " = " << v
                         << " is invalid: a side of the window is a token "
                            "count >= 0, or -1 for unlimited";
  if (left < 0 && right < 0)
    return emitError() << "a window with left = -1 and right = -1 is "
                          "unlimited on both sides, which is no window; "
                          "omit it (or bound a side with a token count >= 0)";
  return success();
}

LogicalResult
mlir::ring::verifyMaxDocs(int64_t maxDocs,
                          function_ref<InFlightDiagnostic()> emitError) {
  if (maxDocs < 1 || maxDocs > kMaxDocs)
    return emitError() << "max_docs = " << maxDocs
                       << " is invalid: it is the most documents a call's "
                          "cu_seqlens may pack, 1 <= max_docs <= "
                       << kMaxDocs << " (unused documents are empty)";
  return success();
}

/// The smallest element of the progression that is >= a, or nullopt.
static std::optional<int64_t> firstAtLeast(const DiffSet &d, int64_t a) {
  if (d.lo >= a)
    return d.lo;
  if (a > d.hi)
    return std::nullopt;
  // lo < a <= hi: no overflow (all within the positions' range).
  int64_t k = (a - d.lo + d.step - 1) / d.step;
  int64_t v = d.lo + k * d.step;
  if (v > d.hi)
    return std::nullopt;
  return v;
}

/// The largest element of the progression that is <= b, or nullopt.
static std::optional<int64_t> lastAtMost(const DiffSet &d, int64_t b) {
  if (b < d.lo)
    return std::nullopt;
  int64_t top = std::min(d.hi, b);
  return d.lo + (top - d.lo) / d.step * d.step;
}

bool DiffSet::intersects(int64_t a, int64_t b) const {
  if (a > b)
    return false;
  std::optional<int64_t> v = firstAtLeast(*this, a);
  return v && *v <= b;
}

bool DiffSet::within(int64_t a, int64_t b, int64_t c) const {
  std::optional<int64_t> first = firstAtLeast(*this, c);
  if (!first)
    return true; // nothing at or above c
  std::optional<int64_t> last = lastAtMost(*this, hi);
  return *first >= a && *last <= b;
}

BlockVisibility mlir::ring::classifyPairs(const DiffSet &d, bool causal,
                                          int64_t left, int64_t right) {
  auto [lo, hi] = windowDiffBounds(causal, left, right);
  BlockVisibility v;
  v.any = d.intersects(lo, hi);
  if (!v.any)
    return v;
  v.causalCut = causal && d.lo < 0;
  // The causally visible differences (>= 0 under causal) must all lie in
  // the window's range for the block to need no window mask.
  auto [wlo, whi] = windowDiffBounds(/*causal=*/false, left, right);
  v.windowCut = !d.within(wlo, whi,
                          causal ? 0 : std::numeric_limits<int64_t>::min());
  return v;
}

BlockVisibility mlir::ring::classifyRows(const TokenRows &q,
                                         const TokenRows &k, bool causal,
                                         int64_t left, int64_t right) {
  if (q.count <= 0 || k.count <= 0)
    return {};
  // Both progressions share the layout's stride (1, or P for striped).
  return classifyPairs(DiffSet::of(q.first, q.count, k.first, k.count,
                                   q.stride),
                       causal, left, right);
}

int64_t mlir::ring::countVisiblePairs(const TokenRows &q, const TokenRows &k,
                                      bool causal, int64_t left,
                                      int64_t right) {
  if (q.count <= 0 || k.count <= 0)
    return 0;
  // Every position is below `span`, so clamping the sides to it keeps the
  // visibility and keeps qp − hi and qp − lo from overflowing.
  int64_t span = std::max(q.first + (q.count - 1) * q.stride,
                          k.first + (k.count - 1) * k.stride) +
                 1;
  auto [lo, hi] = clampedDiffBounds(causal, left, right, span);
  int64_t visible = 0;
  for (int64_t a = 0; a < q.count; ++a) {
    // Keys k.first + b·stride with qp − hi <= key <= qp − lo.
    int64_t qp = q.first + a * q.stride;
    int64_t bLo = std::max<int64_t>(
        llvm::divideCeilSigned(qp - hi - k.first, k.stride), 0);
    int64_t bHi = std::min<int64_t>(
        llvm::divideFloorSigned(qp - lo - k.first, k.stride), k.count - 1);
    if (bHi >= bLo)
      visible += bHi - bLo + 1;
  }
  return visible;
}
