//===- DocumentsDraft.h - TEMPORARY copy of gpuvarlen's Documents.cpp -===//
//
// A verbatim stand-in for gpuvarlen's shared document helpers
// (codegen/gpu/Documents.cpp, Kernels.h) until they land on main; deleted
// at that merge. Not to be merged.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_DOCUMENTSDRAFT_H
#define RINGC_CODEGEN_GPU_DOCUMENTSDRAFT_H

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"

#include "llvm/Support/MathExtras.h"

#include <functional>

namespace mlir::ring::gpu {
struct DocumentBounds {
  std::string first, last;
};
struct TileRange {
  std::string begin, end;
};
inline std::string documentsSuffix(int64_t maxDocs) {
  return maxDocs > 0 ? "_docs" + std::to_string(maxDocs) : "";
}

inline std::string documentsPointer(MlirEmitter &e) {
  return e.let("llvm.addrspacecast %cu_seqlens : !llvm.ptr to !llvm.ptr<1>");
}

inline DocumentBounds documentBounds(MlirEmitter &e,
                                               const std::string &cu,
                                               int64_t maxDocs,
                                               const std::string &pos,
                                               llvm::StringRef ty = "i32") {
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

inline std::string documentAdmits(MlirEmitter &e,
                                            const DocumentBounds &doc,
                                            const std::string &kp,
                                            llvm::StringRef ty = "i32") {
  return andI1(e, e.cmp("sge", kp, doc.first, ty),
               e.cmp("sle", kp, doc.last, ty));
}

inline TileRange documentTileRange(
    MlirEmitter &e, const std::string &n, const std::string &lo,
    const std::string &hi,
    const std::function<std::string(const std::string &)> &firstPos,
    const std::function<std::string(const std::string &)> &lastPos) {
  // Positions grow with the row, so the tiles that end before lo are a
  // prefix, and so are those that start at or before hi.
  std::string begin = emitCount(
      e, n, [&](const std::string &t) { return e.cmp("slt", lastPos(t), lo); });
  std::string end = emitCount(
      e, n, [&](const std::string &t) { return e.cmp("sle", firstPos(t), hi); });
  // An empty range when no tile reaches [lo, hi] (end may then be below
  // begin): the loops run from begin to max(begin, end).
  std::string endMax = e.select(e.cmp("sgt", end, begin), end, begin, "i32");
  return {begin, endMax};
}

} // namespace mlir::ring::gpu
#endif
