//===- GemmKernel.cpp - the whole layer's projection GEMMs ------*- C++ -*-===//
//
// This file implements the GPU kernels of the whole-layer ops
// (RingLayerOps.td) on mma.sync m16n8k16 with fp32 accumulators:
//   - ring.project: C = X · W (+ bias), X [M = B·Ll, K = d_model] row-major,
//     W [K, N = H·Dl] row-major; C is rounded once and written straight into
//     the [B, H, Ll, Dl] layout the attention kernels read (column n is head
//     n / Dl, element n % Dl; no transpose through memory); the three
//     projections of Q, K and V from one X run as one launch (ProjectQKV:
//     grid x spans the N tiles of all three);
//   - ring.out_project: the fp32 partial Y = O · W_o, with A read from O in
//     the [B, H, Ll, Dl] layout the attention writes (A[m = (b, l), k =
//     (h, d)]), W_o [K = H·Dl, N = d_model]; Y [M, N] row-major;
//   - the device half of ring.output_all_reduce: Y = round(partial + b_o);
//     with no head groups and no dim slices there is nothing to reduce, and
//     the output GEMM writes Y = round(O · W_o + b_o) itself (OutProjectY);
//   - the device half of ring.output_reduce_scatter (ScatterFinish): the
//     rank's share of the summed partial's rows + b_o, rounded into Y, the
//     Y rows past the share written as 0.
// A CTA of eight warps (2 x 4) computes a 128 x 128 tile of C, each warp
// 64 x 32 (4 x 4 m16n8 tiles: 64 FLOP per byte loaded from L2, twice a
// 64 x 64 tile's); A and B tiles of 32 along K stream through shared memory
// with cp.async, double buffered, and reach the tensor cores through
// ldmatrix (B transposed, as V in the attention kernel). Ragged tails: rows
// of A past M and columns of B past N are clamped on load and never stored;
// 16-byte chunks past K are zero-filled in shared memory (they enter the
// sums), so N and K need only be multiples of 8 (whole 16-byte chunks),
// and M is any size.
//
// Any other d_model or local head_dim Dl (GemmKernelConfig::setShape)
// gets the element-wise variant, "_dm<d_model>_dl<Dl>": rows of X and W
// then start 2 bytes past a 4-byte boundary and a 16-byte chunk of a row
// of O spans two heads or more, which no cp.async piece can copy. Each
// 16-byte shared chunk is gathered through registers (gatherChunk: eight
// 2-byte loads, each predicated on its element being inside the matrix,
// so zeros past K and N; one st.shared, as MmaFragments' odd-row copy),
// and the tiles, the K loop, ldmatrix, mma.sync and wgmma are unchanged.
// A column pair of C or Y whose N is odd (a pair can straddle N, or two
// heads of Q/K/V) is written element by element (oddColumns). The wgmma
// form takes 128-column tiles there (kWgmmaOddBlockN): the gathered
// elements live in registers next to the accumulators.
//
// The sm_90a form (GemmKernelConfig::wgmma, chosen with the attention
// kernel's kind, --gpu-kernel) keeps the 256 threads, the operand
// addressing (the fused QKV pick, O read in place), the ragged-tail rules
// and the epilogue; the CTA tile is 128 x 256 (kWgmmaBlockN), two consumer
// warpgroups each owning 64 rows x 256 columns of C in 128 fp32 registers a
// thread (the m16n8 layout: warp w of the CTA holds rows 16 w .. 16 w + 15,
// so the epilogue is the mma.sync one with one m16 tile and 32 n8 tiles).
// A (128 x 64, K-major) and B (64 x 256, N contiguous: MN-major, four
// 64-column panels) stream through three stages of 128-byte-swizzled shared
// tiles (MmaFragments::swizzledChunkOffset, the wgmma backward's copy
// layout); each K tile is four `wgmma.mma_async m64n256k16` steps with both
// operands from descriptors, accumulating in place
// (WgmmaFragments::ssGemmStepsAcc). Per K tile: wait for the tile's
// cp.async group, fence.proxy.async (each thread's landed copies and
// zero-filled chunks become visible to the async proxy), one barrier (which
// also retires the stage read one tile earlier), issue the copy two tiles
// ahead into that stage, then the wgmma statement (fence .. wait 0) while
// two copies are in flight. Why 128 x 256: 87 FLOP per byte brought into
// shared memory against 64 for 128 x 128, and the L2 is the first bound of
// this GEMM on H100 (bench/NOTES.md "wgmma projection GEMMs"). Why cp.async
// rather than the attention kernel's TMA producer: A may be O in [B, H,
// Ll, Dl], whose rows (b, l) cross batch planes within a tile, and the
// launch passes plain pointers; a TMA / warp-specialized form with
// asynchronous wgmma chains is the step to tune on a GPU.
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/TargetInfo.h"
#include "codegen/gpu/WgmmaFragments.h"

#include <cassert>
#include <optional>
#include <tuple>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

std::string GemmKernelConfig::kernelName() const {
  if (kind == GemmKind::Finish)
    return "ringc_layer_finish_" + dtype + (bias ? "_bias" : "");
  if (kind == GemmKind::ScatterFinish)
    return "ringc_layer_scatter_finish_" + dtype + (bias ? "_bias" : "");
  const char *stem = kind == GemmKind::Project      ? "project_"
                     : kind == GemmKind::ProjectQKV ? "qkv_"
                     : kind == GemmKind::OutProjectY ? "out_y_"
                                                     : "out_project_";
  return std::string(wgmma ? "ringc_gemm_wgmma_" : "ringc_gemm_") + stem +
         dtype + (bias ? "_bias" : "") +
         (chunked() ? "" : "_dm" + std::to_string(dModel) + "_dl" +
                               std::to_string(headDim));
}

void GemmKernelConfig::setShape(int64_t d, int64_t dl) {
  bool whole = d % 8 == 0 && dl % 8 == 0;
  dModel = whole ? 0 : d;
  headDim = whole ? 0 : dl;
}

int64_t GemmKernelConfig::sharedBytes() const {
  if (kind == GemmKind::Finish || kind == GemmKind::ScatterFinish)
    return 0;
  if (wgmma)
    return 1024 +
           kWgmmaStages * (kBlockM * 128 + kWgmmaBlockK * blockN() * 2);
  return 2 * (kBlockM * paddedRowBytes(kBlockK) +
              kBlockK * paddedRowBytes(kBlockN));
}

std::string GemmKernelConfig::validate(const TargetInfo &target) const {
  if (std::string error = checkMmaDtype(dtype, target); !error.empty())
    return error;
  if (kind == GemmKind::OutProject && bias)
    return "the output projection's bias is added after the all-reduce "
           "(ring.output_all_reduce), not by its GEMM";
  if (wgmma && kind != GemmKind::Finish &&
      (target.smVersion() != 90 || !target.chip().ends_with("a")))
    return "the wgmma projection GEMMs need sm_90a, not " +
           target.chip().str() + " (use --gpu-kernel=mma)";
  if (sharedBytes() > target.maxSharedBytes())
    return "the GEMM tiles need " + std::to_string(sharedBytes()) +
           " bytes of shared memory, more than " + target.chip().str() +
           " offers (" + std::to_string(target.maxSharedBytes()) + ")";
  return "";
}

std::string GemmKernelConfig::checkShape(int64_t m, int64_t n,
                                         int64_t k) const {
  // Row tiles go on grid y (at most 65535 CTAs).
  if (m <= 0 || m > 65535LL * kBlockM)
    return "the projection GEMM's rows (batch x tokens per rank) are " +
           std::to_string(m) + "; they must be in 1.." +
           std::to_string(65535LL * kBlockM) + " (use more ranks)";
  // Rows are copied one by one (clamped at the tail); columns and the
  // reduction in 16-byte chunks, or element by element (any N and K; the
  // element-wise variant, setShape); both are passed as i32.
  for (auto [what, v] : {std::pair<const char *, int64_t>{"columns (N)", n},
                         {"reduction length (K)", k}}) {
    if (v <= 0 || v > INT32_MAX)
      return std::string("the projection GEMM's ") + what + " is " +
             std::to_string(v) + "; it must be in 1..2^31 - 1";
    if (chunked() && v % 8 != 0)
      return std::string("the projection GEMM's ") + what + " is " +
             std::to_string(v) +
             "; the chunked GEMM copies 16-byte chunks and needs a "
             "multiple of 8 (setShape picks the element-wise GEMM)";
  }
  return "";
}

namespace {

/// Writes one projection GEMM kernel.
class GemmWriter {
public:
  explicit GemmWriter(const GemmKernelConfig &c)
      : c(c), halfTy(c.dtype == "f16" ? "f16" : "bf16"), wg(c.wgmma),
        BN(c.blockN()), BK(c.blockK()), RA(wg ? 128 : paddedRowBytes(BK)),
        RB(wg ? 2 * BN : paddedRowBytes(BN)), aBytes(BM * RA),
        bBytes(BK * RB) {}

  std::string run();

private:
  static constexpr int64_t BM = GemmKernelConfig::kBlockM,
                           T = GemmKernelConfig::threads(),
                           kWarpsN = GemmKernelConfig::kWarpsN;
  /// A warp's tile of C, and its m16 x n8 tiles (mma.sync).
  static constexpr int64_t WM = BM / GemmKernelConfig::kWarpsM,
                           WN = GemmKernelConfig::kBlockN / kWarpsN,
                           MI = WM / 16, NJ = WN / 8;
  static_assert(GemmKernelConfig::kWarpsM * kWarpsN ==
                        GemmKernelConfig::kWarps &&
                    WM % 16 == 0 && WN % 16 == 0,
                "warp tiles of whole m16 tiles and n16 pairs");
  static_assert(GemmKernelConfig::kWarps == 8 &&
                    GemmKernelConfig::kBlockM == 2 * 64 &&
                    GemmKernelConfig::kWgmmaBlockN % 64 == 0 &&
                    GemmKernelConfig::kWgmmaBlockN <= 256 &&
                    GemmKernelConfig::kWgmmaOddBlockN % 64 == 0 &&
                    GemmKernelConfig::kWgmmaBlockK == 64,
                "wgmma: two warpgroups of m64nN (N in whole 64-column "
                "panels, at most 256), one 64-column K panel");

  /// Shared byte offset of stage `buf`'s A and B tiles.
  std::string aOff(const std::string &buf) {
    return e.mul(buf, e.i32(aBytes + bBytes));
  }
  std::string bOff(const std::string &buf) {
    return e.add(aOff(buf), e.i32(aBytes));
  }
  /// One 16-byte chunk into shared byte offset `soff`: cp.async from the
  /// global element `elem` (i64) of `gptr` if `inK`, else zeros.
  void chunk(const std::string &inK, const std::string &gptr,
             const std::string &elem, const std::string &soff);
  /// The element-wise form of chunk() (GemmKernelConfig::dModel): the
  /// eight 16-bit elements of one chunk into shared byte offset `soff`,
  /// element i loaded from `get<1>` bytes past `get<0>` (!llvm.ptr<1>) of
  /// element(i) only where its `get<2>` (i1) holds, else 0; the whole
  /// chunk 0 unless `all` (an i1, "" for always).
  void gatherChunk(
      const std::function<
          std::tuple<std::string, int64_t, std::string>(int64_t)> &element,
      const std::string &all, const std::string &soff);
  /// The element index (i64) of [b, h, l, d] (i32) in a [B, `heads`, Ll,
  /// `dl`] buffer: Q, K or V written, O read.
  std::string headElement(const std::string &b, const std::string &heads,
                          const std::string &h, const std::string &l,
                          const std::string &d, const std::string &dl);
  /// The A (BM x BK) and B (BK x BN) tiles of K tile `kt` into stage `buf`
  /// (padded rows for ldmatrix, or swizzled panels for wgmma).
  void copyTiles(const std::string &kt, const std::string &buf);
  /// The mma.sync K loop (double buffered, ldmatrix); returns the
  /// accumulators of the warp's MI x NJ m16n8 tiles, 4 each.
  std::vector<std::string> mmaLoop(const std::string &lane,
                                   const std::string &wm,
                                   const std::string &wn,
                                   const std::string &nk);
  /// The wgmma K loop (kWgmmaStages stages); returns the warpgroup's
  /// m64n128 accumulators (16 n8 tiles of the thread's warp, 4 each).
  std::vector<std::string> wgmmaLoop(const std::string &warp,
                                     const std::string &nk);
  /// A K loop `scf.for j = 0 to nk` carrying fp32 accumulators from 0.
  struct KLoop {
    /// The carried values inside the body, their types, the loop's result
    /// name and its index.
    std::vector<std::string> acc;
    std::string types, loop, j;
  };
  /// Opens the loop over `n` accumulators.
  KLoop openKLoop(int64_t n, const std::string &nk);
  /// Yields `acc`, closes the loop and waits for the trailing cp.async
  /// groups; returns the loop's results.
  std::vector<std::string> closeKLoop(const KLoop &k,
                                      const std::vector<std::string> &acc);
  /// Writes C (Q/K/V in the attention layout, Y, or the fp32 partial) from
  /// `acc`, the accumulators of `mTiles` x `nTiles` m16n8 tiles whose
  /// first thread row is `row0` and first column pair `col0`.
  void epilogue(const std::vector<std::string> &acc, int64_t mTiles,
                int64_t nTiles, const std::string &row0,
                const std::string &col0, const std::string &cg);
  /// The epilogue's columns col and col + 1 (`v`, fp32) of a row when
  /// N is odd, element by element: the second only below N (bias, C or Y
  /// in the element type, or the fp32 partial through storeF32Pair). `b`,
  /// `l` are the row's batch and token (C), `rowElem` its first element
  /// (i64, Y and the partial).
  void oddColumns(const std::string &b,
                  const std::string &l, const std::string &rowElem,
                  const std::string &col, std::array<std::string, 2> v,
                  const std::string &biasG, const std::string &cg);

  const GemmKernelConfig &c;
  const std::string halfTy;
  const bool wg;
  /// The N width and K depth of a tile; shared row bytes of the A tile (BK
  /// elements) and the B tile (BN elements), and the tiles' bytes.
  const int64_t BN, BK, RA, RB, aBytes, bBytes;
  MlirEmitter e;
  std::string smem, ag, bg, zero16;
  /// This CTA's N tile, its projection's columns and heads, and its W,
  /// bias and C pointers: parameters, or picked from the three of a fused
  /// QKV kernel.
  std::string nTile = "%bx", nCols = "%n", headsV = "%heads", wPtr = "%w",
              biasPtr = "%bias", cPtr = "%c";
  /// A is O ([B, H, Ll, Dl]) rather than X.
  const bool readsO = c.kind == GemmKind::OutProject ||
                      c.kind == GemmKind::OutProjectY;
  /// The element-wise variant: K - 1 and Dl (i32), and Ll·Dl (i64), for
  /// its clamps and head addressing.
  const bool odd = !c.chunked();
  std::string kLast, dlC, seqDl;
  std::optional<MmaFragments> f;
  std::optional<WgmmaFragments> w;
};

} // namespace

void GemmWriter::chunk(const std::string &inK, const std::string &gptr,
                       const std::string &elem, const std::string &soff) {
  std::string dst = e.gep(smem, soff, 3);
  e.open("scf.if " + inK + " {");
  std::string src = e.gep(gptr, e.mul(elem, e.i64(2), "i64"), 1, "i64");
  e.line("nvvm.cp.async.shared.global " + dst + ", " + src +
         ", 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>");
  e.reopen("} else {");
  e.line("llvm.store " + zero16 + ", " + dst +
         " {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>");
  e.close();
}

void GemmWriter::gatherChunk(
    const std::function<std::tuple<std::string, int64_t, std::string>(
        int64_t)> &element,
    const std::string &all, const std::string &soff) {
  // Eight predicated 2-byte loads (MmaFragments::loadHalfBitsIf: nothing
  // outside the matrix is read, zeros past K and N, no branch), then one
  // 16-byte st.shared, as MmaFragments' odd-row copy: cp.async cannot copy
  // pieces that start 2 bytes past a 4-byte boundary or straddle K. The
  // loads are independent, so ptxas can issue them together.
  std::array<std::string, 8> loaded;
  for (int64_t i = 0; i < 8; ++i) {
    auto [p, off, valid] = element(i);
    loaded[i] = f->loadHalfBitsIf(p, off, valid);
  }
  std::string v = f->packChunk([&](int64_t i) { return loaded[i]; });
  if (!all.empty())
    v = e.select(all, v, zero16, "vector<4xi32>");
  e.line("llvm.store " + v + ", " + e.gep(smem, soff, 3) +
         " {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>");
}

std::string GemmWriter::headElement(const std::string &b,
                                    const std::string &heads,
                                    const std::string &h, const std::string &l,
                                    const std::string &d,
                                    const std::string &dl) {
  std::string plane = e.add(e.mul(b, heads), h);
  return e.add(e.mul(e.add(e.mul(e.ext64(plane), e.ext64("%seq"), "i64"),
                           e.ext64(l), "i64"),
                     e.ext64(dl), "i64"),
               e.ext64(d), "i64");
}

void GemmWriter::copyTiles(const std::string &kt, const std::string &buf) {
  std::string k0 = e.mul(kt, e.i32(BK));
  // A: BM rows x BK/8 chunks (rows clamped to the last; chunks past K zero).
  const int64_t aChunks = BM * (BK / 8), bChunks = BK * (BN / 8);
  assert(aChunks % T == 0 && bChunks % T == 0 &&
         "whole copy rounds per thread");
  for (int64_t it = 0; it < aChunks / T; ++it) {
    std::string idx = e.add("%tid", e.i32(it * T));
    std::string r = e.divu(idx, e.i32(BK / 8));
    std::string col = e.remu(idx, e.i32(BK / 8));
    std::string row = e.minu(e.add(e.mul("%h", e.i32(BM)), r), "%last_m");
    std::string kc = e.add(k0, e.mul(col, e.i32(8)));
    auto soffA = [&] {
      return wg ? f->swizzledChunkOffset(aOff(buf), r, col, BM)
                : e.add(e.add(aOff(buf), e.mul(r, e.i32(RA))),
                        e.mul(col, e.i32(16)));
    };
    if (odd) {
      // Element kc + i of the row where kc + i < K (zero past K). X: rows of
      // K; O: column k = (h, d) of row (b, l) is element ((b H + h) Ll + l)
      // Dl + d = rowBase + h Ll Dl + d.
      std::string rowBase, p0;
      if (!readsO) {
        rowBase = e.mul(e.ext64(row), e.ext64("%k"), "i64");
        p0 = e.gep(ag, e.mul(e.add(rowBase, e.ext64(kc), "i64"), e.i64(2), "i64"),
                   1, "i64");
      } else {
        std::string b = e.divu(row, "%seq"), l = e.remu(row, "%seq");
        rowBase = e.mul(
            e.add(e.mul(e.ext64(e.mul(b, "%heads")), e.ext64("%seq"), "i64"),
                  e.ext64(l), "i64"),
            e.ext64(dlC), "i64");
      }
      gatherChunk(
          [&](int64_t i) {
            std::string ki = e.add(kc, e.i32(i));
            std::string valid = e.cmp("ult", ki, "%k");
            if (!readsO)
              return std::tuple{p0, 2 * i, valid};
            std::string h = e.divu(ki, dlC);
            std::string idx = e.add(
                e.add(rowBase, e.mul(e.ext64(h), seqDl, "i64"), "i64"),
                e.ext64(e.sub(ki, e.mul(h, dlC))), "i64");
            return std::tuple{e.gep(ag, e.mul(idx, e.i64(2), "i64"), 1, "i64"),
                              int64_t(0), valid};
          },
          "", soffA());
      continue;
    }
    std::string elem;
    if (!readsO) {
      elem = e.add(e.mul(e.ext64(row), e.ext64("%k"), "i64"), e.ext64(kc),
                   "i64");
    } else {
      // O [B, H, Ll, Dl]: row = (b, l), column kc = (h, d); a chunk stays
      // inside one head (Dl is a multiple of 8).
      std::string b = e.divu(row, "%seq"), l = e.remu(row, "%seq");
      std::string h = e.divu(kc, "%dl"), d = e.remu(kc, "%dl");
      elem = headElement(b, "%heads", h, l, d, "%dl");
    }
    chunk(e.cmp("ult", kc, "%k"), ag, elem, soffA());
  }
  // B: BK rows (k) x BN/8 chunks (n clamped to the last chunk; rows past K
  // zero).
  for (int64_t it = 0; it < bChunks / T; ++it) {
    std::string idx = e.add("%tid", e.i32(it * T));
    std::string r = e.divu(idx, e.i32(BN / 8));
    std::string col = e.remu(idx, e.i32(BN / 8));
    std::string kr = e.add(k0, r);
    if (odd) {
      // Row kr clamped to K - 1 (the chunk is 0 past K); columns n0 + i
      // below N (0 past N, never stored).
      std::string n0 =
          e.add(e.mul(nTile, e.i32(BN)), e.mul(col, e.i32(8)));
      std::string elem0 =
          e.add(e.mul(e.ext64(e.minu(kr, kLast)), e.ext64(nCols), "i64"),
                e.ext64(n0), "i64");
      std::string p0 = e.gep(bg, e.mul(elem0, e.i64(2), "i64"), 1, "i64");
      std::string soff =
          wg ? f->swizzledChunkOffset(bOff(buf), r, col, BK)
             : e.add(e.add(bOff(buf), e.mul(r, e.i32(RB))),
                     e.mul(col, e.i32(16)));
      gatherChunk(
          [&](int64_t i) {
            return std::tuple{p0, 2 * i,
                              e.cmp("ult", e.add(n0, e.i32(i)), nCols)};
          },
          e.cmp("ult", kr, "%k"), soff);
      continue;
    }
    std::string nc = e.minu(e.add(e.mul(nTile, e.i32(BN)), e.mul(col, e.i32(8))),
                            e.sub(nCols, e.i32(8)));
    std::string elem = e.add(e.mul(e.ext64(kr), e.ext64(nCols), "i64"),
                             e.ext64(nc), "i64");
    std::string soff =
        wg ? f->swizzledChunkOffset(bOff(buf), r, col, BK)
           : e.add(e.add(bOff(buf), e.mul(r, e.i32(RB))),
                   e.mul(col, e.i32(16)));
    chunk(e.cmp("ult", kr, "%k"), bg, elem, soff);
  }
}

std::string GemmWriter::run() {
  // Block x: the N tile (%bx), block y: the M tile (%h in the shared
  // coordinate names). N tiles vary fastest, so the CTAs resident at one
  // time share their A rows, and W (a few tens of MB at d_model 4096)
  // stays in L2 while A and C stream through DRAM once.
  std::string lane, warp;
  emitBlockCoordinates(e, lane, warp);
  std::string g = e.let("arith.shrui " + lane + ", " + e.i32(2) + " : i32");
  std::string t4 = e.let("arith.andi " + lane + ", " + e.i32(3) + " : i32");
  smem = e.let("llvm.mlir.addressof @ringc_smem : !llvm.ptr<3>");
  if (wg) {
    std::string raw = smem;
    w.emplace(e, halfTy, WgmmaFragments::alignedSharedBase(e, raw, smem));
  }
  f.emplace(e, halfTy, smem, "%tid", T);
  zero16 = e.let("llvm.mlir.zero : vector<4xi32>");
  ag = e.let("llvm.addrspacecast %a : !llvm.ptr to !llvm.ptr<1>");
  if (c.kind == GemmKind::ProjectQKV) {
    // Grid x covers the N tiles of Q, then K, then V: pick this CTA's
    // projection and its N tile within it.
    std::string tq = e.divu(e.add("%nq", e.i32(BN - 1)), e.i32(BN));
    std::string tkv = e.divu(e.add("%nkv", e.i32(BN - 1)), e.i32(BN));
    std::string isQ = e.cmp("ult", "%bx", tq);
    std::string kEnd = e.add(tq, tkv);
    std::string isK = e.cmp("ult", "%bx", kEnd);
    auto pick = [&](const std::string &q, const std::string &k,
                    const std::string &v, StringRef ty) {
      return e.select(isQ, q, e.select(isK, k, v, ty), ty);
    };
    wPtr = pick("%wq", "%wk", "%wv", "!llvm.ptr");
    biasPtr = pick("%bq", "%bk", "%bv", "!llvm.ptr");
    cPtr = pick("%q", "%kk", "%v", "!llvm.ptr");
    nCols = e.select(isQ, "%nq", "%nkv", "i32");
    headsV = e.select(isQ, "%hq", "%hkv", "i32");
    nTile = e.sub("%bx", pick(e.i32(0), tq, kEnd, "i32"));
  }
  bg = e.let("llvm.addrspacecast " + wPtr + " : !llvm.ptr to !llvm.ptr<1>");
  std::string cg =
      e.let("llvm.addrspacecast " + cPtr + " : !llvm.ptr to !llvm.ptr<1>");
  e.line("%last_m = arith.subi %m, " + e.i32(1) + " : i32");
  if (odd) {
    kLast = e.sub("%k", e.i32(1));
    dlC = e.i32(c.headDim);
    seqDl = e.mul(e.ext64("%seq"), e.i64(c.headDim), "i64");
  }
  if (wg) {
    std::string nk = e.divu(e.add("%k", e.i32(BK - 1)), e.i32(BK));
    std::vector<std::string> acc = wgmmaLoop(warp, nk);
    // Warp w of the CTA (warpgroup w / 4, its warp w mod 4) holds rows
    // 16 w + g (+ 8) of the tile, all 128 columns: 2 t4 (+ 1) of each n8.
    std::string row0 =
        e.add(e.add(e.mul("%h", e.i32(BM)), e.mul(warp, e.i32(16))), g);
    std::string col0 = e.add(e.mul(nTile, e.i32(BN)), e.mul(t4, e.i32(2)));
    epilogue(acc, 1, BN / 8, row0, col0, cg);
  } else {
    std::string wm = e.divu(warp, e.i32(kWarpsN));
    std::string wn = e.remu(warp, e.i32(kWarpsN));
    std::string nk = e.divu(e.add("%k", e.i32(BK - 1)), e.i32(BK));
    std::vector<std::string> acc = mmaLoop(lane, wm, wn, nk);
    // Thread (g, t4) holds rows g and g + 8 of each m16 tile, columns 2 t4
    // and 2 t4 + 1 of each n8 tile.
    std::string row0 =
        e.add(e.add(e.mul("%h", e.i32(BM)), e.mul(wm, e.i32(WM))), g);
    std::string col0 =
        e.add(e.add(e.mul(nTile, e.i32(BN)), e.mul(wn, e.i32(WN))),
              e.mul(t4, e.i32(2)));
    epilogue(acc, MI, NJ, row0, col0, cg);
  }
  e.line("gpu.return");

  std::string params =
      c.kind == GemmKind::ProjectQKV
          ? "%a: !llvm.ptr, %wq: !llvm.ptr, %wk: !llvm.ptr, %wv: !llvm.ptr, "
            "%bq: !llvm.ptr, %bk: !llvm.ptr, %bv: !llvm.ptr, %q: !llvm.ptr, "
            "%kk: !llvm.ptr, %v: !llvm.ptr, %m: i32, %nq: i32, %nkv: i32, "
            "%k: i32, %seq: i32, %hq: i32, %hkv: i32, %dl: i32"
          : "%a: !llvm.ptr, %w: !llvm.ptr, %bias: !llvm.ptr, %c: !llvm.ptr, "
            "%m: i32, %n: i32, %k: i32, %seq: i32, %heads: i32, %dl: i32";
  // One CTA an SM in both forms (mma.sync: registers; wgmma: its shared
  // tiles, sharedBytes()).
  return "  gpu.func @" + c.kernelName() + "(" + params +
         ") kernel attributes {known_block_size = array<i32: " +
         std::to_string(T) + ", 1, 1>, nvvm.minctasm = 1 : i32, nvvm.maxnreg = " +
         std::to_string(TargetInfo::kMaxRegisters) + " : i32} {\n" + e.str() +
         "  }\n";
}

std::vector<std::string> GemmWriter::mmaLoop(const std::string &lane,
                                             const std::string &wm,
                                             const std::string &wn,
                                             const std::string &nk) {
  // Prologue: K tile 0 (K >= 8, so there is one).
  copyTiles(e.i32(0), e.i32(0));
  e.line("nvvm.cp.async.commit.group");

  std::string aLane = f->aLaneOffset(lane, e.mul(wm, e.i32(WM)), RA);
  std::string bLane =
      e.add(f->bTransLaneOffset(lane, RB), e.mul(wn, e.i32(WN * 2)));

  // The K loop; carried: the MI x NJ m16n8 accumulators.
  KLoop k = openKLoop(MI * NJ * 4, nk);
  const std::vector<std::string> &names = k.acc;
  const std::string &j = k.j;
  {
    std::string jn = e.add(j, e.i32(1));
    e.open("scf.if " + e.cmp("slt", jn, nk) + " {");
    copyTiles(jn, e.let("arith.andi " + jn + ", " + e.i32(1) + " : i32"));
    e.close();
    e.line("nvvm.cp.async.commit.group");
    e.line("nvvm.cp.async.wait.group 1");
    e.line("gpu.barrier");
    std::string buf = e.let("arith.andi " + j + ", " + e.i32(1) + " : i32");
    std::string aS = e.add(aOff(buf), aLane);
    std::string bS = e.add(bOff(buf), bLane);
    std::array<std::array<std::string, 4>, NJ> acc[MI];
    for (int mi = 0; mi < MI; ++mi)
      for (int nj = 0; nj < NJ; ++nj)
        for (int i = 0; i < 4; ++i)
          acc[mi][nj][i] = names[(mi * NJ + nj) * 4 + i];
    for (int64_t kk = 0; kk < BK / 16; ++kk) {
      std::array<std::string, 4> a[MI];
      for (int mi = 0; mi < MI; ++mi)
        a[mi] = f->ldmatrix(e.add(aS, e.i32(mi * 16 * RA + kk * 32)),
                            /*trans=*/false);
      for (int np = 0; np < NJ / 2; ++np) {
        auto b = f->ldmatrix(e.add(bS, e.i32(kk * 16 * RB + np * 32)),
                             /*trans=*/true);
        for (int mi = 0; mi < MI; ++mi) {
          acc[mi][2 * np] = f->mma(a[mi], b[0], b[1], acc[mi][2 * np]);
          acc[mi][2 * np + 1] = f->mma(a[mi], b[2], b[3], acc[mi][2 * np + 1]);
        }
      }
    }
    // Every warp is done with this stage before it is refilled.
    e.line("gpu.barrier");
    std::vector<std::string> yield;
    for (int mi = 0; mi < MI; ++mi)
      for (int nj = 0; nj < NJ; ++nj)
        for (int i = 0; i < 4; ++i)
          yield.push_back(acc[mi][nj][i]);
    return closeKLoop(k, yield);
  }
}

std::vector<std::string> GemmWriter::wgmmaLoop(const std::string &warp,
                                               const std::string &nk) {
  const int64_t S = GemmKernelConfig::kWgmmaStages;
  // Prologue: K tiles 0 .. S - 2, one cp.async group each (empty past the
  // last tile, so that the wait counts below hold for any K).
  for (int64_t s = 0; s < S - 1; ++s) {
    if (s == 0) {
      copyTiles(e.i32(0), e.i32(0)); // K >= 8: there is one
    } else {
      e.open("scf.if " + e.cmp("slt", e.i32(s), nk) + " {");
      copyTiles(e.i32(s), e.i32(s));
      e.close();
    }
    e.line("nvvm.cp.async.commit.group");
  }
  // The warpgroup's 64 rows of A: rows 64 wg.. of the K-major tile (8-row
  // groups 1024 bytes apart; LBO unused for swizzled K-major operands, 16);
  // B MN-major: 64-column panels of BK rows (LBO), 8-row groups 1024 bytes
  // apart (SBO). A k16 step moves 32 bytes within A's 128-byte rows and 16
  // rows (2048 bytes) of B.
  std::string wgRows = e.mul(
      e.let("arith.shrui " + warp + ", " + e.i32(2) + " : i32"),
      e.i32(64 * 128));
  std::vector<int64_t> aSteps = WgmmaFragments::kMajorStepBytes(BK, BM);
  std::vector<int64_t> bSteps;
  for (int64_t kk = 0; kk < BK / 16; ++kk)
    bSteps.push_back(kk * 16 * 128);

  KLoop k = openKLoop(BN / 2, nk);
  const std::string &j = k.j;
  {
    // Tiles 0 .. j + S - 2 are committed: wait for tile j, publish it to
    // the async proxy and to every thread. The barrier also means every
    // warpgroup's wgmma of tile j - 1 retired (its statement waits), so
    // that stage can be refilled with tile j + S - 1.
    e.line("nvvm.cp.async.wait.group " + std::to_string(S - 2));
    e.line("nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, "
           "space = #nvvm.shared_space<cta>}");
    e.line("gpu.barrier");
    std::string jn = e.add(j, e.i32(S - 1));
    e.open("scf.if " + e.cmp("slt", jn, nk) + " {");
    copyTiles(jn, e.remu(jn, e.i32(S)));
    e.close();
    e.line("nvvm.cp.async.commit.group");
    std::string buf = e.remu(j, e.i32(S));
    std::string aDesc = w->descriptor(e.add(aOff(buf), wgRows), 16, 1024);
    std::string bDesc = w->descriptor(bOff(buf), BK * 128, 1024);
    return closeKLoop(k, w->ssGemmStepsAcc(k.acc, aDesc, aSteps, bDesc,
                                           bSteps, /*bMnMajor=*/true));
  }
}

GemmWriter::KLoop GemmWriter::openKLoop(int64_t n, const std::string &nk) {
  KLoop k;
  std::string header;
  for (int64_t i = 0; i < n; ++i) {
    k.acc.push_back(e.newName());
    header += (i ? ", " : "") + k.acc[i] + " = " + e.f32(0.0);
    k.types += (i ? ", f32" : "f32");
  }
  k.loop = e.newName();
  k.j = e.newName();
  e.open(k.loop + ":" + std::to_string(n) + " = scf.for " + k.j + " = " +
         e.i32(0) + " to " + nk + " step " + e.i32(1) + " iter_args(" +
         header + ") -> (" + k.types + ") : i32 {");
  return k;
}

std::vector<std::string>
GemmWriter::closeKLoop(const KLoop &k, const std::vector<std::string> &acc) {
  std::string yield;
  for (auto &v : acc)
    yield += (yield.empty() ? "" : ", ") + v;
  e.line("scf.yield " + yield + " : " + k.types);
  e.close();
  // Only empty groups (past the last K tile) can be pending.
  e.line("nvvm.cp.async.wait.group 0");
  std::vector<std::string> out;
  for (size_t i = 0; i < acc.size(); ++i)
    out.push_back(k.loop + "#" + std::to_string(i));
  return out;
}

void GemmWriter::epilogue(const std::vector<std::string> &acc, int64_t mTiles,
                          int64_t nTiles, const std::string &row0,
                          const std::string &col0, const std::string &cg) {
  std::string biasG;
  if (c.bias)
    biasG = e.let("llvm.addrspacecast " + biasPtr +
                  " : !llvm.ptr to !llvm.ptr<1>");
  // A column pair (2 t4, 2 t4 + 1) is one aligned 4-byte (8-byte for the
  // fp32 partial) access within one row of C unless N is odd: the row
  // length d_model of Y, or Dl of Q/K/V, where a pair can also span two
  // heads.
  const bool pairs =
      !odd || (readsO ? c.dModel % 2 == 0 : c.headDim % 2 == 0);
  for (int64_t mi = 0; mi < mTiles; ++mi)
    for (int half = 0; half < 2; ++half) {
      std::string row = e.add(row0, e.i32(mi * 16 + half * 8));
      e.open("scf.if " + e.cmp("slt", row, "%m") + " {");
      std::string b, l, rowElem;
      if (!readsO) {
        b = e.divu(row, "%seq");
        l = e.remu(row, "%seq");
      } else {
        rowElem = e.mul(e.ext64(row), e.ext64(nCols), "i64");
      }
      for (int64_t nj = 0; nj < nTiles; ++nj) {
        std::string col = e.add(col0, e.i32(nj * 8));
        e.open("scf.if " + e.cmp("slt", col, nCols) + " {");
        int64_t at = (mi * nTiles + nj) * 4 + 2 * half;
        std::string v0 = acc[at], v1 = acc[at + 1];
        if (!pairs) {
          oddColumns(b, l, rowElem, col, {v0, v1}, biasG, cg);
          e.close();
          continue;
        }
        if (c.bias) {
          // The bias of the column pair (Q/K/V's, or b_o for Y).
          std::string bp = e.gep(biasG, e.mul(e.ext64(col), e.i64(2), "i64"),
                                 1, "i64");
          std::string pair = e.let("llvm.load " + bp +
                                   " {alignment = 4 : i64} : !llvm.ptr<1> "
                                   "-> vector<2x" + halfTy + ">");
          std::string wide = e.let("arith.extf " + pair + " : vector<2x" +
                                   halfTy + "> to vector<2xf32>");
          v0 = e.fadd(v0, e.let("llvm.extractelement " + wide + "[" +
                                e.i32(0) + " : i32] : vector<2xf32>"));
          v1 = e.fadd(v1, e.let("llvm.extractelement " + wide + "[" +
                                e.i32(1) + " : i32] : vector<2xf32>"));
        }
        if (c.kind == GemmKind::OutProjectY) {
          // Y [M, N] in the element type, rounded once.
          std::string elem = e.add(rowElem, e.ext64(col), "i64");
          std::string p = e.gep(cg, e.mul(elem, e.i64(2), "i64"), 1, "i64");
          e.line("llvm.store " + f->pack(v0, v1) + ", " + p +
                 " {alignment = 4 : i64} : i32, !llvm.ptr<1>");
        } else if (!readsO) {
          // Column col = (h, d) of row (b, l) -> out[b, h, l, d].
          std::string h = e.divu(col, "%dl"), d = e.remu(col, "%dl");
          std::string elem = headElement(b, headsV, h, l, d, "%dl");
          std::string p = e.gep(cg, e.mul(elem, e.i64(2), "i64"), 1, "i64");
          e.line("llvm.store " + f->pack(v0, v1) + ", " + p +
                 " {alignment = 4 : i64} : i32, !llvm.ptr<1>");
        } else {
          std::string elem = e.add(rowElem, e.ext64(col), "i64");
          std::string p = e.gep(cg, e.mul(elem, e.i64(4), "i64"), 1, "i64");
          std::string v = e.let("llvm.mlir.poison : vector<2xf32>");
          v = e.let("llvm.insertelement " + v0 + ", " + v + "[" + e.i32(0) +
                    " : i32] : vector<2xf32>");
          v = e.let("llvm.insertelement " + v1 + ", " + v + "[" + e.i32(1) +
                    " : i32] : vector<2xf32>");
          e.line("llvm.store " + v + ", " + p +
                 " {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>");
        }
        e.close();
      }
      e.close();
    }
}

void GemmWriter::oddColumns(const std::string &b,
                            const std::string &l, const std::string &rowElem,
                            const std::string &col,
                            std::array<std::string, 2> v,
                            const std::string &biasG, const std::string &cg) {
  if (c.kind == GemmKind::OutProject) {
    // The fp32 partial [M, d_model]; no bias (added after the sums).
    storeF32Pair(e, cg, rowElem, col, c.dModel, /*straddles=*/true,
                 /*readOld=*/false,
                 [&](int j, const std::function<std::string()> &) {
                   return v[j];
                 });
    return;
  }
  for (int j = 0; j < 2; ++j) {
    std::string cj = j ? e.add(col, e.i32(1)) : col;
    if (j)
      e.open("scf.if " + e.cmp("slt", cj, nCols) + " {");
    std::string x = v[j];
    if (c.bias) {
      std::string bp =
          e.gep(biasG, e.mul(e.ext64(cj), e.i64(2), "i64"), 1, "i64");
      std::string bv = e.let("llvm.load " + bp +
                             " {alignment = 2 : i64} : !llvm.ptr<1> -> " +
                             halfTy);
      x = e.fadd(x, e.let("arith.extf " + bv + " : " + halfTy + " to f32"));
    }
    std::string elem;
    if (c.kind == GemmKind::OutProjectY) {
      elem = e.add(rowElem, e.ext64(cj), "i64");
    } else {
      // Column cj = (h, d) of row (b, l) -> out[b, h, l, d].
      std::string h = e.divu(cj, dlC), d = e.remu(cj, dlC);
      elem = headElement(b, headsV, h, l, d, dlC);
    }
    std::string p = e.gep(cg, e.mul(elem, e.i64(2), "i64"), 1, "i64");
    e.line("llvm.store " +
           e.let("arith.truncf " + x + " : f32 to " + halfTy) + ", " + p +
           " {alignment = 2 : i64} : " + halfTy + ", !llvm.ptr<1>");
    if (j)
      e.close();
  }
}

/// The device half of ring.output_all_reduce: one thread per element.
static std::string writeFinishKernel(const GemmKernelConfig &c) {
  MlirEmitter e;
  e.line("%tidx = gpu.thread_id x");
  e.line("%bidx = gpu.block_id x");
  std::string tid = e.let("arith.index_cast %tidx : index to i64");
  std::string bid = e.let("arith.index_cast %bidx : index to i64");
  std::string i = e.add(e.mul(bid, e.i64(kRowKernelThreads), "i64"), tid, "i64");
  std::string pg = e.let("llvm.addrspacecast %partial : !llvm.ptr to !llvm.ptr<1>");
  std::string yg = e.let("llvm.addrspacecast %y : !llvm.ptr to !llvm.ptr<1>");
  e.open("scf.if " + e.cmp("slt", i, "%count", "i64") + " {");
  std::string x = e.let("llvm.load " + e.gep(pg, e.mul(i, e.i64(4), "i64"), 1, "i64") +
                        " : !llvm.ptr<1> -> f32");
  if (c.bias) {
    std::string bg = e.let("llvm.addrspacecast %bias : !llvm.ptr to !llvm.ptr<1>");
    std::string col = e.let("arith.remui " + i + ", %cols : i64");
    std::string bv = e.let("llvm.load " +
                           e.gep(bg, e.mul(col, e.i64(2), "i64"), 1, "i64") +
                           " : !llvm.ptr<1> -> " + c.dtype);
    x = e.fadd(x, e.let("arith.extf " + bv + " : " + c.dtype + " to f32"));
  }
  std::string h = e.let("arith.truncf " + x + " : f32 to " + c.dtype);
  e.line("llvm.store " + h + ", " + e.gep(yg, e.mul(i, e.i64(2), "i64"), 1, "i64") +
         " : " + c.dtype + ", !llvm.ptr<1>");
  e.close();
  e.line("gpu.return");
  return "  gpu.func @" + c.kernelName() +
         "(%partial: !llvm.ptr, %bias: !llvm.ptr, %y: !llvm.ptr, %count: i64, "
         "%cols: i64) kernel attributes {known_block_size = array<i32: " +
         std::to_string(kRowKernelThreads) + ", 1, 1>} {\n" + e.str() + "  }\n";
}

/// The device half of ring.output_reduce_scatter: one thread per element of
/// Y [B, yRows, cols]; Y row l of batch b takes partial row first + l while
/// l < share, else 0.
static std::string writeScatterFinishKernel(const GemmKernelConfig &c) {
  MlirEmitter e;
  e.line("%tidx = gpu.thread_id x");
  e.line("%bidx = gpu.block_id x");
  std::string tid = e.let("arith.index_cast %tidx : index to i64");
  std::string bid = e.let("arith.index_cast %bidx : index to i64");
  std::string i = e.add(e.mul(bid, e.i64(kRowKernelThreads), "i64"), tid, "i64");
  std::string pg = e.let("llvm.addrspacecast %partial : !llvm.ptr to !llvm.ptr<1>");
  std::string yg = e.let("llvm.addrspacecast %y : !llvm.ptr to !llvm.ptr<1>");
  e.open("scf.if " + e.cmp("slt", i, "%count", "i64") + " {");
  std::string col = e.let("arith.remui " + i + ", %cols : i64");
  std::string rowAll = e.let("arith.divui " + i + ", %cols : i64");
  std::string l = e.let("arith.remui " + rowAll + ", %yRows : i64");
  std::string b = e.let("arith.divui " + rowAll + ", %yRows : i64");
  std::string yAddr = e.gep(yg, e.mul(i, e.i64(2), "i64"), 1, "i64");
  e.open("scf.if " + e.cmp("slt", l, "%share", "i64") + " {");
  std::string src = e.add(
      e.mul(e.add(e.add(e.mul(b, "%rows", "i64"), "%first", "i64"), l, "i64"),
            "%cols", "i64"),
      col, "i64");
  std::string x = e.let("llvm.load " + e.gep(pg, e.mul(src, e.i64(4), "i64"), 1, "i64") +
                        " : !llvm.ptr<1> -> f32");
  if (c.bias) {
    std::string bg = e.let("llvm.addrspacecast %bias : !llvm.ptr to !llvm.ptr<1>");
    std::string bv = e.let("llvm.load " +
                           e.gep(bg, e.mul(col, e.i64(2), "i64"), 1, "i64") +
                           " : !llvm.ptr<1> -> " + c.dtype);
    x = e.fadd(x, e.let("arith.extf " + bv + " : " + c.dtype + " to f32"));
  }
  std::string h = e.let("arith.truncf " + x + " : f32 to " + c.dtype);
  e.line("llvm.store " + h + ", " + yAddr + " : " + c.dtype + ", !llvm.ptr<1>");
  e.reopen("} else {");
  std::string zero = e.let("arith.truncf " + e.f32(0.0) + " : f32 to " + c.dtype);
  e.line("llvm.store " + zero + ", " + yAddr + " : " + c.dtype + ", !llvm.ptr<1>");
  e.close();
  e.close();
  e.line("gpu.return");
  return "  gpu.func @" + c.kernelName() +
         "(%partial: !llvm.ptr, %bias: !llvm.ptr, %y: !llvm.ptr, %count: i64, "
         "%cols: i64, %yRows: i64, %rows: i64, %first: i64, %share: i64) "
         "kernel attributes {known_block_size = array<i32: " +
         std::to_string(kRowKernelThreads) + ", 1, 1>} {\n" + e.str() + "  }\n";
}

std::string mlir::ring::gpu::writeGemmKernel(const GemmKernelConfig &config) {
  if (config.kind == GemmKind::Finish)
    return writeFinishKernel(config);
  if (config.kind == GemmKind::ScatterFinish)
    return writeScatterFinishKernel(config);
  return GemmWriter(config).run();
}
