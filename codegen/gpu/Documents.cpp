//===- Documents.cpp - packed documents in the GPU kernels ------*- C++ -*-===//
//
// This file implements the pieces every GPU kernel that masks packed
// documents (spec key max_docs, the block ops' `docs`) shares: the binary
// search of cu_seqlens for a position's document, the key test, and the
// run-time range of tiles that can hold a visible pair (Kernels.h). The
// CPU kernels do the same search (codegen/cpu/KernelBuilder.cpp,
// documentBounds); here it is emitted as text, unrolled.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

std::string mlir::ring::gpu::documentsSuffix(int64_t maxDocs) {
  return maxDocs > 0 ? "_docs" + std::to_string(maxDocs) : "";
}

std::string mlir::ring::gpu::documentsPointer(MlirEmitter &e) {
  return e.let("llvm.addrspacecast %cu_seqlens : !llvm.ptr to !llvm.ptr<1>");
}

DocumentBounds mlir::ring::gpu::documentBounds(MlirEmitter &e,
                                               const std::string &cu,
                                               int64_t maxDocs,
                                               const std::string &pos,
                                               StringRef ty) {
  // cu[i] in `ty` (i is an i32 index below 2^25).
  auto at = [&](const std::string &i) {
    std::string v = e.let(
        "llvm.load " + e.gep(cu, e.mul(e.ext64(i), e.i64(4), "i64"), 1, "i64") +
        " : !llvm.ptr<1> -> i32");
    return ty == "i32" ? v : e.let("arith.extsi " + v + " : i32 to " + ty);
  };
  auto constant = [&](int64_t v) {
    return ty == "i32" ? e.i32(v) : e.i64(v);
  };
  // Invariant for 0 <= pos < L: cu[lo] <= pos < cu[hi]; the values cu[lo]
  // and cu[hi] ride along, so the search ends without another load.
  // cu[0] = 0 (validated on the host).
  std::string lo = e.i32(0), hi = e.i32(maxDocs);
  std::string loVal = constant(0), hiVal = at(hi);
  const int64_t steps =
      llvm::Log2_64_Ceil(static_cast<uint64_t>(maxDocs)) + 1;
  for (int64_t s = 0; s < steps; ++s) {
    std::string mid =
        e.let("arith.shrui " + e.add(lo, hi) + ", " + e.i32(1) + " : i32");
    std::string v = at(mid);
    std::string below = e.cmp("sle", v, pos, ty);
    lo = e.select(below, mid, lo, "i32");
    hi = e.select(below, hi, mid, "i32");
    loVal = e.select(below, v, loVal, ty);
    hiVal = e.select(below, hiVal, v, ty);
  }
  return {loVal, e.sub(hiVal, constant(1), ty)};
}

std::string mlir::ring::gpu::documentAdmits(MlirEmitter &e,
                                            const DocumentBounds &doc,
                                            const std::string &kp,
                                            StringRef ty) {
  return andI1(e, e.cmp("sge", kp, doc.first, ty),
               e.cmp("sle", kp, doc.last, ty));
}

DocumentBounds mlir::ring::gpu::rowKeyRange(MlirEmitter &e,
                                            const DocumentBounds &doc,
                                            const std::string &qp, bool causal,
                                            const KernelWindow &window) {
  auto maxs = [&](const std::string &a, const std::string &b) {
    return e.let("arith.maxsi " + a + ", " + b + " : i32");
  };
  auto mins = [&](const std::string &a, const std::string &b) {
    return e.let("arith.minsi " + a + ", " + b + " : i32");
  };
  // The window's sides are clamped to ±seq (KernelWindow) and positions to
  // ±3·span (Visibility.h), so qp − side fits i32.
  DocumentBounds r = doc;
  if (causal)
    r.last = mins(r.last, qp);
  if (window.maxDiff)
    r.first = maxs(r.first, e.sub(qp, e.i32(*window.maxDiff)));
  if (window.minDiff)
    r.last = mins(r.last, e.sub(qp, e.i32(*window.minDiff)));
  return r;
}

TileRange mlir::ring::gpu::documentTileRange(
    MlirEmitter &e, const std::string &n, const std::string &lo,
    const std::string &hi,
    const std::function<std::string(const std::string &)> &firstPos,
    const std::function<std::string(const std::string &)> &lastPos) {
  // Positions grow with the row, so the tiles that end before lo are a
  // prefix, and so are those that start at or before hi.
  std::string begin = emitPrefixCount(
      e, n, [&](const std::string &t) { return e.cmp("slt", lastPos(t), lo); });
  std::string end = emitPrefixCount(
      e, n, [&](const std::string &t) { return e.cmp("sle", firstPos(t), hi); });
  // An empty range when no tile reaches [lo, hi] (end may then be below
  // begin): the loops run from begin to max(begin, end).
  std::string endMax = e.select(e.cmp("sgt", end, begin), end, begin, "i32");
  return {begin, endMax};
}
