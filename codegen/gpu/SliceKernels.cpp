//===- SliceKernels.cpp - GPU kernels of the dim-slice path -----*- C++ -*-===//
//
// This file implements the generators of the two kernels of the dim-slice
// attention (head_dim split over m ranks): ring.block_scores, the partial
// scores Q_slice · K_sliceᵀ on mma.sync m16n8k16 (ldmatrix from padded
// shared-memory tiles filled by cp.async), and ring.block_softmax_v, the
// scale, causal mask, fp32 softmax with LSE and P · V_slice on the scores
// that the slice all-reduce summed (SIMT, one warp per row), and the two
// SIMT kernels of the dim-slice backward. With packed documents they mask
// and skip keys with the pieces of Documents.cpp, as the block kernels do.
// Their launch ABI is documented in Kernels.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/TargetInfo.h"

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

static std::string globalPtr(MlirEmitter &e, const std::string &p) {
  return e.let("llvm.addrspacecast " + p + " : !llvm.ptr to !llvm.ptr<1>");
}

/// Stores the f32 `v` at element `elem` (i64) of `base` (!llvm.ptr<1>).
static void storeF32(MlirEmitter &e, const std::string &base,
                     const std::string &elem, const std::string &v) {
  std::string p = e.gep(base, e.mul(elem, e.i64(4), "i64"), 1, "i64");
  e.line("llvm.store " + v + ", " + p + " : f32, !llvm.ptr<1>");
}

static std::string loadF32(MlirEmitter &e, const std::string &base,
                           const std::string &elem) {
  std::string p = e.gep(base, e.mul(elem, e.i64(4), "i64"), 1, "i64");
  return e.let("llvm.load " + p + " : !llvm.ptr<1> -> f32");
}

/// The `gpu.func` header and body.
static std::string wrapKernel(const std::string &name,
                              const std::string &params, int threads,
                              const MlirEmitter &e) {
  return "  gpu.func @" + name + "(" + params +
         ") kernel attributes {known_block_size = array<i32: " +
         std::to_string(threads) +
         ", 1, 1>, nvvm.minctasm = 1 : i32, nvvm.maxnreg = " +
         std::to_string(TargetInfo::kMaxRegisters) + " : i32} {\n" + e.str() +
         "  }\n";
}

//===----------------------------------------------------------------------===//
// ring.block_scores
//===----------------------------------------------------------------------===//

std::string BlockScoresKernelConfig::kernelName() const {
  return "ringc_scores_" + dtype + "_d" + std::to_string(sliceDim);
}

int64_t BlockScoresKernelConfig::sharedBytes() const {
  return (blockM() + kBlockN) * paddedRowBytes(paddedSliceDim());
}

std::string BlockScoresKernelConfig::validate(const TargetInfo &target) const {
  if (std::string why = checkMmaDtype(dtype, target); !why.empty())
    return why;
  // Any width: rows are padded to k16 with zeros in shared memory
  // (MmaFragments::copyRows), which adds nothing to the partial scores.
  if (sliceDim <= 0)
    return "dim-slice width (head_dim / dim_slices) " +
           std::to_string(sliceDim) + " must be positive";
  if (sharedBytes() > target.maxSharedBytes())
    return "dim-slice width " + std::to_string(sliceDim) + " needs " +
           std::to_string(sharedBytes()) +
           " bytes of shared memory per CTA, more than " + target.chip().str() +
           " offers (" + std::to_string(target.maxSharedBytes()) +
           "); use more dim slices";
  return "";
}

std::string
mlir::ring::gpu::writeBlockScoresKernel(const BlockScoresKernelConfig &c) {
  const int64_t D = c.sliceDim, Dp = c.paddedSliceDim(), BM = c.blockM(),
                BN = c.kBlockN;
  const int64_t RB = paddedRowBytes(Dp);
  MlirEmitter e;
  std::string lane, warp;
  emitBlockCoordinates(e, lane, warp);
  std::string g = e.let("arith.shrui " + lane + ", " + e.i32(2) + " : i32");
  std::string t4 = e.let("arith.andi " + lane + ", " + e.i32(3) + " : i32");
  std::string smem = e.let("llvm.mlir.addressof @ringc_smem : !llvm.ptr<3>");
  MmaFragments f(e, c.dtype, smem, "%tid", c.threads());
  std::string qg = globalPtr(e, "%q"), kg = globalPtr(e, "%k"),
              sg = globalPtr(e, "%s");

  // Tile (qt, kt) of this CTA and the heads it reads.
  std::string nkt = e.divu(e.add("%kn", e.i32(BN - 1)), e.i32(BN));
  std::string qt = e.divu("%bx", nkt), kt = e.remu("%bx", nkt);
  std::string hk = e.divu("%h", e.divu("%heads", "%kv_heads"));
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), hk);
  std::string qBase =
      e.mul(e.mul(e.ext64(bh), e.ext64("%q_len"), "i64"), e.i64(D), "i64");
  std::string kBase =
      e.mul(e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64"), e.i64(D), "i64");
  std::string qTile = e.mul(qt, e.i32(BM)), kTile = e.mul(kt, e.i32(BN));

  // Q and K tiles into shared memory (rows past the range clamped to the
  // last one; their scores are not stored).
  f.copyRows(BM, D, RB, qg, qBase, e.add("%q0", qTile),
             e.sub(e.add("%q0", "%qn"), e.i32(1)), e.i32(0), Dp);
  f.copyRows(BN, D, RB, kg, kBase, e.add("%k0", kTile),
             e.sub(e.add("%k0", "%kn"), e.i32(1)), e.i32(BM * RB), Dp);
  e.line("nvvm.cp.async.commit.group");
  e.line("nvvm.cp.async.wait.group 0");
  e.line("gpu.barrier");

  // S = Q Kᵀ for the warp's 16 rows by BN keys.
  std::string aLane = f.aLaneOffset(lane, e.mul(warp, e.i32(16)), RB);
  std::string kLane = e.add(e.i32(BM * RB), f.bLaneOffset(lane, RB));
  std::vector<std::array<std::string, 4>> S(BN / 8);
  for (auto &s : S)
    s = {e.f32(0.0), e.f32(0.0), e.f32(0.0), e.f32(0.0)};
  for (int64_t kk = 0; kk < Dp / 16; ++kk) {
    auto a = f.ldmatrix(e.add(aLane, e.i32(kk * 32)), /*trans=*/false);
    for (int64_t np = 0; np < BN / 16; ++np) {
      auto bq = f.ldmatrix(e.add(kLane, e.i32(np * 16 * RB + kk * 32)),
                           /*trans=*/false);
      S[2 * np] = f.mma(a, bq[0], bq[1], S[2 * np]);
      S[2 * np + 1] = f.mma(a, bq[2], bq[3], S[2 * np + 1]);
    }
  }

  // Store the rows and keys inside the ranges. scores rows and columns are
  // relative to q0 and k0.
  std::string warpRow = e.add(qTile, e.mul(warp, e.i32(16)));
  std::string key0 = e.add(kTile, e.mul(t4, e.i32(2)));
  for (int r = 0; r < 2; ++r) {
    std::string row = e.add(e.add(warpRow, g), e.i32(8 * r));
    e.open("scf.if " + e.cmp("ult", row, "%qn") + " {");
    std::string sRow = e.mul(
        e.add(e.mul(e.ext64(bh), e.ext64("%s_rows"), "i64"), e.ext64(row),
              "i64"),
        e.ext64("%s_cols"), "i64");
    for (int64_t n = 0; n < BN / 8; ++n)
      for (int col = 0; col < 2; ++col) {
        std::string key = e.add(key0, e.i32(n * 8 + col));
        e.open("scf.if " + e.cmp("ult", key, "%kn") + " {");
        storeF32(e, sg, e.add(sRow, e.ext64(key), "i64"), S[n][2 * r + col]);
        e.close();
      }
    e.close();
  }
  e.line("gpu.return");
  return wrapKernel(c.kernelName(),
                    "%q: !llvm.ptr, %k: !llvm.ptr, %s: !llvm.ptr, %heads: i32, "
                    "%kv_heads: i32, %q_len: i32, %kv_len: i32, %s_rows: i32, "
                    "%s_cols: i32, %q0: i32, %qn: i32, %k0: i32, %kn: i32",
                    c.threads(), e);
}

//===----------------------------------------------------------------------===//
// ring.block_softmax_v
//===----------------------------------------------------------------------===//

std::string SoftmaxVKernelConfig::kernelName() const {
  return "ringc_softmax_v_" + dtype + "_d" + std::to_string(sliceDim) + "_" +
         stringifyMaskKind(mask).str() + "_" + stringifyBalance(layout).str() +
         window.suffix() + padding.suffix() + documentsSuffix(maxDocs);
}

std::string SoftmaxVKernelConfig::validate(const TargetInfo &target) const {
  if (std::string why = checkMmaDtype(dtype, target); !why.empty())
    return why;
  // One accumulator per 32 columns per lane; past 256 columns the SIMT
  // kernel would want more registers than it is worth.
  if (sliceDim <= 0 || sliceDim > 256)
    return "dim-slice width " + std::to_string(sliceDim) +
           " is outside 1..256 for the GPU softmax kernel; use more dim "
           "slices";
  return "";
}

/// Loads V[elem] (i64 element index) as f32.
static std::string loadHalfAsF32(MlirEmitter &e, const std::string &base,
                                 const std::string &elem,
                                 const std::string &dtype) {
  std::string p = e.gep(base, e.mul(elem, e.i64(2), "i64"), 1, "i64");
  if (dtype == "f16")
    return e.let("arith.extf " + e.let("llvm.load " + p +
                                       " : !llvm.ptr<1> -> f16") +
                 " : f16 to f32");
  // bf16 → f32 is exact: the bf16 bits are the f32's upper half. Written as
  // integer ops so that no cvt.f32.bf16 (sm_90 only) is needed on sm_80.
  std::string bits = e.let("llvm.load " + p + " : !llvm.ptr<1> -> i16");
  std::string wide = e.let("arith.extui " + bits + " : i16 to i32");
  std::string hi = e.let("arith.shli " + wide + ", " + e.i32(16) + " : i32");
  return e.let("arith.bitcast " + hi + " : i32 to f32");
}

/// Packed documents: the rows [begin, end) (relative to `r0`, of `n` rows
/// of `owner`'s buffer of `len` rows) whose positions can lie in
/// [doc.first, doc.last] (documentTileRange over tiles of one row).
static TileRange documentRows(MlirEmitter &e, Balance layout,
                              const SeqPadding &pad, const DocumentBounds &doc,
                              const std::string &r0, const std::string &n,
                              const std::string &owner,
                              const std::string &len) {
  auto at = [&](const std::string &t) {
    return partPosition(e, layout, e.add(r0, t), owner, len, "%ring", pad);
  };
  return documentTileRange(e, n, doc.first, doc.last, at, at);
}

std::string mlir::ring::gpu::writeSoftmaxVKernel(const SoftmaxVKernelConfig &c) {
  const int64_t D = c.sliceDim;
  const int64_t cols = (D + 31) / 32; // output columns per lane
  const bool causal = c.mask == MaskKind::causal;
  MlirEmitter e;
  std::string lane, warp;
  emitBlockCoordinates(e, lane, warp);
  std::string sg = globalPtr(e, "%s"), vg = globalPtr(e, "%v"),
              pog = globalPtr(e, "%po"), plg = globalPtr(e, "%pl");
  std::string hk = e.divu("%h", e.divu("%heads", "%kv_heads"));
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), hk);
  // This warp's row, relative to q0.
  std::string row = e.add(e.mul("%bx", e.i32(c.kWarps)), warp);
  e.open("scf.if " + e.cmp("ult", row, "%qn") + " {");
  std::string qPos;
  const int64_t docs = c.maxDocs;
  const bool positional = causal || c.window.any() || docs;
  if (positional)
    qPos = maskPosition(e, c.layout, e.add("%q0", row), "%q_owner", "%seq",
                        "%ring", c.padding, /*isKey=*/false);
  // Packed documents: the keys the row sees, as one range (its document cut
  // by the mask and the window, rowKeyRange; a padding row's sentinel gets
  // an empty one), and the keys [jBegin, jEnd) that can lie in it.
  DocumentBounds keys;
  std::string jBegin = e.i32(0), jEnd = "%kn";
  if (docs) {
    keys = rowKeyRange(e, documentBounds(e, documentsPointer(e), docs, qPos),
                       qPos, causal, c.window);
    TileRange r = documentRows(e, c.layout, c.padding, keys, "%k0", "%kn",
                               "%kv_owner", "%seq");
    jBegin = r.begin;
    jEnd = r.end;
  }
  std::string sRow = e.mul(
      e.add(e.mul(e.ext64(bh), e.ext64("%s_rows"), "i64"), e.ext64(row), "i64"),
      e.ext64("%s_cols"), "i64");
  std::string vBase =
      e.mul(e.mul(e.ext64(bhk), e.ext64("%seq"), "i64"), e.i64(D), "i64");

  // The scaled score of key j (relative to k0) in log2 units, −inf when
  // masked.
  auto score = [&](const std::string &j) {
    std::string x = e.fmul(loadF32(e, sg, e.add(sRow, e.ext64(j), "i64")),
                           "%scale_log2");
    if (!positional)
      return x;
    std::string kPos = maskPosition(e, c.layout, e.add("%k0", j), "%kv_owner",
                                    "%seq", "%ring", c.padding, /*isKey=*/true);
    std::string vis;
    if (docs) {
      // Document, causal mask and window in one range.
      vis = documentAdmits(e, keys, kPos);
    } else {
      vis = causal ? e.cmp("sle", kPos, qPos) : "";
      vis = andI1(e, vis, windowAdmits(e, c.window, qPos, kPos));
    }
    return e.select(vis, x, e.negInf(), "f32");
  };

  // Pass 1: the row maximum, lanes striding over the keys.
  std::string mLoop = e.newName(), j1 = e.newName(), m1 = e.newName();
  e.open(mLoop + " = scf.for " + j1 + " = " + e.add(jBegin, lane) + " to " +
         jEnd + " step " +
         e.i32(32) + " iter_args(" + m1 + " = " + e.negInf() +
         ") -> (f32) : i32 {");
  e.line("scf.yield " + e.fmax(m1, score(j1)) + " : f32");
  e.close();
  std::string m = mLoop;
  for (int mask = 1; mask < 32; mask *= 2)
    m = e.fmax(m, e.let("nvvm.shfl.sync bfly " + e.i32(-1) + ", " + m + ", " +
                        e.i32(mask) + ", " + e.i32(31) + " : f32 -> f32"));
  // A fully masked row keeps m = −inf; subtract 0 instead so that exp2 sees
  // −inf − 0 = −inf (p = 0), never −inf − −inf = NaN.
  std::string mUse =
      e.select(e.fcmp("oeq", m, e.negInf()), e.f32(0.0), m, "f32");

  // Pass 2: every lane walks all keys: l = Σ p, O[:, lane + 32c] += p V.
  std::vector<std::string> colIdx(cols);
  for (int64_t ci = 0; ci < cols; ++ci)
    colIdx[ci] = e.minu(e.add(lane, e.i32(32 * ci)), e.i32(D - 1));
  std::string loop = e.newName(), j = e.newName();
  std::vector<std::string> carried(cols + 1);
  std::string header, types;
  for (int64_t i = 0; i <= cols; ++i) {
    carried[i] = e.newName();
    header += (i ? ", " : "") + carried[i] + " = " + e.f32(0.0);
    types += i ? ", f32" : "f32";
  }
  e.open(loop + ":" + std::to_string(cols + 1) + " = scf.for " + j + " = " +
         jBegin + " to " + jEnd + " step " + e.i32(1) + " iter_args(" + header +
         ") -> (" + types + ") : i32 {");
  {
    std::string p = e.exp2(e.fsub(score(j), mUse));
    std::string vRow = e.add(
        vBase, e.mul(e.ext64(e.add("%k0", j)), e.i64(D), "i64"), "i64");
    std::string yield = e.fadd(carried[0], p);
    for (int64_t ci = 0; ci < cols; ++ci) {
      std::string x = loadHalfAsF32(e, vg, e.add(vRow, e.ext64(colIdx[ci]), "i64"),
                                    c.dtype);
      // llvm.intr.fma, not math.fma: convert-gpu-to-nvvm turns the latter
      // into a libdevice call (__nv_fmaf), which we do not link.
      yield += ", " + e.let("llvm.intr.fma(" + p + ", " + x + ", " +
                            carried[ci + 1] + ") : (f32, f32, f32) -> f32");
    }
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  auto res = [&](int64_t i) { return loop + "#" + std::to_string(i); };

  std::string l = res(0);
  std::string has = e.fcmp("ogt", l, e.f32(0.0));
  std::string inv = e.select(has, e.fdiv(e.f32(1.0), l), e.f32(0.0), "f32");
  std::string lse = e.select(
      has, e.fmul(e.fadd(m, e.log2(l)), e.f32(M_LN2)), e.negInf(), "f32");
  std::string pRow =
      e.add(e.mul(e.ext64(bh), e.ext64("%p_len"), "i64"), e.ext64(row), "i64");
  std::string oRow = e.mul(pRow, e.i64(D), "i64");
  for (int64_t ci = 0; ci < cols; ++ci) {
    bool guarded = 32 * (ci + 1) > D;
    std::string col = e.add(lane, e.i32(32 * ci));
    if (guarded)
      e.open("scf.if " + e.cmp("ult", col, e.i32(D)) + " {");
    storeF32(e, pog, e.add(oRow, e.ext64(col), "i64"),
             e.fmul(res(ci + 1), inv));
    if (guarded)
      e.close();
  }
  e.open("scf.if " + e.cmp("eq", lane, e.i32(0)) + " {");
  storeF32(e, plg, pRow, lse);
  e.close();
  e.close();
  e.line("gpu.return");
  return wrapKernel(
      c.kernelName(),
      "%s: !llvm.ptr, %v: !llvm.ptr, %po: !llvm.ptr, %pl: !llvm.ptr, "
      "%heads: i32, %kv_heads: i32, %seq: i32, %s_rows: i32, %s_cols: i32, "
      "%p_len: i32, %q0: i32, %qn: i32, %k0: i32, %kn: i32, %q_owner: i32, "
      "%kv_owner: i32, %ring: i32, %scale_log2: f32" +
          std::string(docs ? ", %cu_seqlens: !llvm.ptr" : ""),
      c.threads(), e);
}

std::string SliceBackwardKernelConfig::dqKernelName() const {
  return "ringc_bwd_slice_dq_" + dtype + "_d" + std::to_string(sliceDim) +
         "_" + stringifyMaskKind(mask).str() + "_" +
         stringifyBalance(layout).str() + window.suffix() + padding.suffix() +
         documentsSuffix(maxDocs);
}

std::string SliceBackwardKernelConfig::dkdvKernelName() const {
  return "ringc_bwd_slice_dkdv_" + dtype + "_d" + std::to_string(sliceDim) +
         "_" + stringifyMaskKind(mask).str() + "_" +
         stringifyBalance(layout).str() + window.suffix() + padding.suffix() +
         documentsSuffix(maxDocs);
}

std::string SliceBackwardKernelConfig::validate(const TargetInfo &target) const {
  if (std::string why = checkMmaDtype(dtype, target); !why.empty())
    return why;
  if (sliceDim <= 0 || sliceDim > 256)
    return "dim-slice width " + std::to_string(sliceDim) +
           " is outside 1..256 for the GPU backward slice kernels; use more "
           "dim slices";
  return "";
}

namespace {
/// Packed documents in the dim-slice backward: how the output row's
/// document admits a pair (query position, key position) -> i1; `mask`:
/// whether the causal mask and the window must still be tested (not folded
/// into the document's range).
struct DocumentTest {
  std::function<std::string(const std::string &, const std::string &)> admits;
  bool mask = true;
};

/// The two SIMT kernels of the dim-slice backward: one warp per output row
/// (a query row for dQ, a key row for dK/dV), lanes over its columns
/// lane + 32c, a sequential walk over the other side's rows.
class SliceBackwardWriter {
public:
  explicit SliceBackwardWriter(const SliceBackwardKernelConfig &c)
      : c(c), D(c.sliceDim), cols((c.sliceDim + 31) / 32),
        causal(c.mask == MaskKind::causal), docs(c.maxDocs > 0) {}

  std::string dq();
  std::string dkdv();

private:
  /// Coordinates, pointers and the output row `row` (relative to its range
  /// start); opens `scf.if row < n`.
  void prologue(const std::string &n);
  /// The position the masks compare of query row i (relative to q0) or
  /// key row j (relative to k0).
  std::string queryPos(const std::string &i) {
    return maskPosition(e, c.layout, e.add("%q0", i), "%q_owner", "%q_len",
                        "%ring", c.padding, /*isKey=*/false);
  }
  std::string keyPos(const std::string &j) {
    return maskPosition(e, c.layout, e.add("%k0", j), "%kv_owner", "%kv_len",
                        "%ring", c.padding, /*isKey=*/true);
  }
  /// P and dS of query row i (relative to q0) of head bh against key row j
  /// (relative to k0), with the row's lse · log2 e and D.
  std::pair<std::string, std::string>
  grad(const std::string &bh, const std::string &i, const std::string &j,
       const std::string &lseL2, const std::string &delta,
       const DocumentTest &doc = {}) {
    std::string at = e.add(
        e.mul(e.add(e.mul(e.ext64(bh), e.ext64("%s_rows"), "i64"), e.ext64(i),
                    "i64"),
              e.ext64("%s_cols"), "i64"),
        e.ext64(j), "i64");
    std::string s = loadF32(e, sg, at), dp = loadF32(e, dpg, at);
    std::string vis = e.i1(true);
    const bool mask = (causal || c.window.any()) && doc.mask;
    if (mask || doc.admits) {
      std::string qp = queryPos(i), kp = keyPos(j);
      if (mask)
        vis = maskVisible(e, c.mask, c.window, vis, qp, kp);
      if (doc.admits)
        vis = andI1(e, vis, doc.admits(qp, kp));
    }
    std::string p = e.exp2(e.fsub(e.fmul(s, "%scale_log2"), lseL2));
    p = e.select(vis, p, e.f32(0.0), "f32");
    return {p, e.fmul(p, e.fsub(dp, delta))};
  }
  /// lse · log2 e (+inf for a fully masked row) and D of query row
  /// `qElem` (i64 element index into lse/delta).
  std::pair<std::string, std::string> rowStats(const std::string &qElem) {
    std::string l = loadF32(e, lseg, qElem);
    l = e.select(e.fcmp("oeq", l, e.negInf()),
                 e.f32(std::numeric_limits<float>::infinity()),
                 e.fmul(l, e.f32(1.4426950408889634)), "f32");
    return {l, loadF32(e, deltag, qElem)};
  }
  /// Element (row, column ci of this lane) of a [.., D] 16-bit tensor.
  std::string loadCol(const std::string &base, const std::string &rowElem,
                      int64_t ci) {
    return loadHalfAsF32(
        e, base,
        e.add(e.mul(rowElem, e.i64(D), "i64"), e.ext64(colIdx[ci]), "i64"),
        c.dtype);
  }
  /// out[rowElem, lane + 32 ci] += factor · acc(ci) for this lane's columns.
  void addRow(const std::string &out, const std::string &rowElem,
              const std::function<std::string(int64_t)> &acc,
              const std::string &factor) {
    for (int64_t ci = 0; ci < cols; ++ci) {
      bool guarded = 32 * (ci + 1) > D;
      std::string col = e.add(lane, e.i32(32 * ci));
      if (guarded)
        e.open("scf.if " + e.cmp("ult", col, e.i32(D)) + " {");
      std::string at =
          e.add(e.mul(rowElem, e.i64(D), "i64"), e.ext64(col), "i64");
      std::string x = acc(ci);
      if (!factor.empty())
        x = e.fmul(x, factor);
      storeF32(e, out, at, e.fadd(loadF32(e, out, at), x));
      if (guarded)
        e.close();
    }
  }
  /// `scf.for iv = lo to n` carrying `count` f32 accumulators (0); returns
  /// the loop name; `carried` gets their names.
  std::string openLoop(const std::string &lo, const std::string &n,
                       std::string &iv, int64_t count,
                       std::vector<std::string> &carried, std::string &types) {
    std::string header;
    carried.clear();
    types.clear();
    for (int64_t k = 0; k < count; ++k) {
      carried.push_back(e.newName());
      header += (k ? ", " : "") + carried[k] + " = " + e.f32(0.0);
      types += k ? ", f32" : "f32";
    }
    std::string loop = e.newName();
    iv = e.newName();
    e.open(loop + ":" + std::to_string(count) + " = scf.for " + iv + " = " +
           lo + " to " + n + " step " + e.i32(1) + " iter_args(" +
           header + ") -> (" + types + ") : i32 {");
    return loop;
  }
  std::string finish(const std::string &name) {
    e.close();
    e.line("gpu.return");
    return wrapKernel(
        name,
        "%q: !llvm.ptr, %k: !llvm.ptr, %do: !llvm.ptr, %lse: !llvm.ptr, "
        "%delta: !llvm.ptr, %s: !llvm.ptr, %dp: !llvm.ptr, %dq: !llvm.ptr, "
        "%dk: !llvm.ptr, %dv: !llvm.ptr, %heads: i32, %kv_heads: i32, "
        "%q_len: i32, %kv_len: i32, %s_rows: i32, %s_cols: i32, %q0: i32, "
        "%qn: i32, %k0: i32, %kn: i32, %q_owner: i32, %kv_owner: i32, "
        "%ring: i32, %scale_log2: f32, %scale: f32" +
            std::string(docs ? ", %cu_seqlens: !llvm.ptr" : ""),
        c.threads(), e);
  }

  const SliceBackwardKernelConfig &c;
  const int64_t D, cols;
  const bool causal, docs;
  MlirEmitter e;
  std::string lane, warp, row, group;
  std::string qg, kg, dog, lseg, deltag, sg, dpg, dqg, dkg, dvg, cug;
  std::vector<std::string> colIdx;
};
} // namespace

void SliceBackwardWriter::prologue(const std::string &n) {
  emitBlockCoordinates(e, lane, warp);
  qg = globalPtr(e, "%q");
  kg = globalPtr(e, "%k");
  dog = globalPtr(e, "%do");
  lseg = globalPtr(e, "%lse");
  deltag = globalPtr(e, "%delta");
  sg = globalPtr(e, "%s");
  dpg = globalPtr(e, "%dp");
  dqg = globalPtr(e, "%dq");
  dkg = globalPtr(e, "%dk");
  dvg = globalPtr(e, "%dv");
  if (docs)
    cug = documentsPointer(e);
  group = e.divu("%heads", "%kv_heads");
  for (int64_t ci = 0; ci < cols; ++ci)
    colIdx.push_back(e.minu(e.add(lane, e.i32(32 * ci)), e.i32(D - 1)));
  row = e.add(e.mul("%bx", e.i32(c.kWarps)), warp);
  e.open("scf.if " + e.cmp("ult", row, n) + " {");
}

std::string SliceBackwardWriter::dq() {
  // Grid (ceil(qn / kWarps), heads, batch): query head %h, row q0 + row.
  prologue("%qn");
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), e.divu("%h", group));
  std::string qElem = e.add(e.mul(e.ext64(bh), e.ext64("%q_len"), "i64"),
                            e.ext64(e.add("%q0", row)), "i64");
  auto [lseL2, delta] = rowStats(qElem);
  std::string kRow0 = e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64");
  // Packed documents: the keys the row sees, as one range (its document
  // cut by the mask and the window, rowKeyRange; a padding row's sentinel
  // gets an empty one), and the keys [jBegin, jEnd) that can lie in it.
  std::string jBegin = e.i32(0), jEnd = "%kn";
  DocumentTest test;
  DocumentBounds keys;
  if (docs) {
    std::string qp = queryPos(row);
    keys = rowKeyRange(e, documentBounds(e, cug, c.maxDocs, qp), qp, causal,
                       c.window);
    TileRange r = documentRows(e, c.layout, c.padding, keys, "%k0", "%kn",
                               "%kv_owner", "%kv_len");
    jBegin = r.begin;
    jEnd = r.end;
    test.admits = [&](const std::string &, const std::string &kp) {
      return documentAdmits(e, keys, kp);
    };
    test.mask = false;
  }
  std::string j, types;
  std::vector<std::string> acc;
  std::string loop = openLoop(jBegin, jEnd, j, cols, acc, types);
  {
    std::string ds = grad(bh, row, j, lseL2, delta, test).second;
    std::string kElem = e.add(kRow0, e.ext64(e.add("%k0", j)), "i64");
    std::string yield;
    for (int64_t ci = 0; ci < cols; ++ci)
      yield += (ci ? ", " : "") +
               e.let("llvm.intr.fma(" + ds + ", " + loadCol(kg, kElem, ci) +
                     ", " + acc[ci] + ") : (f32, f32, f32) -> f32");
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  addRow(dqg, qElem,
         [&](int64_t ci) { return loop + "#" + std::to_string(ci); },
         "%scale");
  return finish(c.dqKernelName());
}

std::string SliceBackwardWriter::dkdv() {
  // Grid (ceil(kn / kWarps), kv_heads, batch): key/value head %h, key row
  // k0 + row, summed over the query heads of its group and the rows of the
  // query range.
  prologue("%kn");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), "%h");
  std::string kElem = e.add(e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64"),
                            e.ext64(e.add("%k0", row)), "i64");
  // Packed documents: the query rows [iBegin, iBegin + nq) that can share
  // the key's document (a pair counts iff both lie in one document). A
  // padding key's sentinel gets the last document (Kernels.h), so the
  // mask's padding side (KernelWindow) stays in the test.
  std::string iBegin = e.i32(0), nq = "%qn";
  DocumentTest test;
  DocumentBounds doc;
  if (docs) {
    doc = documentBounds(e, cug, c.maxDocs, keyPos(row));
    TileRange r = documentRows(e, c.layout, c.padding, doc, "%q0", "%qn",
                               "%q_owner", "%q_len");
    iBegin = r.begin;
    nq = e.sub(r.end, r.begin);
    test.admits = [&](const std::string &qp, const std::string &) {
      return documentAdmits(e, doc, qp);
    };
  }
  std::string it, types;
  std::vector<std::string> acc;
  std::string loop =
      openLoop(e.i32(0), e.mul(group, nq), it, 2 * cols, acc, types);
  {
    // (nq > 0 inside the loop.)
    std::string hq = e.add(e.mul("%h", group), e.divu(it, nq));
    std::string i = e.add(iBegin, e.remu(it, nq));
    std::string bh = e.add(e.mul("%b", "%heads"), hq);
    std::string qElem = e.add(e.mul(e.ext64(bh), e.ext64("%q_len"), "i64"),
                              e.ext64(e.add("%q0", i)), "i64");
    auto [lseL2, delta] = rowStats(qElem);
    auto [p, ds] = grad(bh, i, row, lseL2, delta, test);
    std::string yield;
    for (int64_t ci = 0; ci < cols; ++ci) // dK += dS Q
      yield += (ci ? ", " : "") +
               e.let("llvm.intr.fma(" + ds + ", " + loadCol(qg, qElem, ci) +
                     ", " + acc[ci] + ") : (f32, f32, f32) -> f32");
    for (int64_t ci = 0; ci < cols; ++ci) // dV += P dO
      yield += ", " + e.let("llvm.intr.fma(" + p + ", " +
                            loadCol(dog, qElem, ci) + ", " + acc[cols + ci] +
                            ") : (f32, f32, f32) -> f32");
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  addRow(dkg, kElem,
         [&](int64_t ci) { return loop + "#" + std::to_string(ci); },
         "%scale");
  addRow(dvg, kElem,
         [&](int64_t ci) { return loop + "#" + std::to_string(cols + ci); },
         "");
  return finish(c.dkdvKernelName());
}

std::string mlir::ring::gpu::writeSliceBackwardDqKernel(
    const SliceBackwardKernelConfig &config) {
  return SliceBackwardWriter(config).dq();
}

std::string mlir::ring::gpu::writeSliceBackwardDkDvKernel(
    const SliceBackwardKernelConfig &config) {
  return SliceBackwardWriter(config).dkdv();
}
