//===- AttentionBackwardKernel.cpp - FA2 backward GPU kernels ---*- C++ -*-===//
//
// This file implements the generators of the two mma.sync kernels of
// ring.block_attention_backward (FlashAttention-2 form, DESIGN.md section
// 1), with P recomputed from the forward's LSE:
//
//   - the dQ kernel: one CTA per (query tile, head, batch) holds its Q and
//     dO tiles in shared memory and streams the block's K/V tiles (cp.async,
//     double buffered): S = Q Kᵀ, dP = dO Vᵀ, dS = P ∘ (dP − D),
//     dQ += dS K; dQ · scale is added to the fp32 dQ accumulator;
//   - the dK/dV kernel: one CTA per (key tile, key/value head, batch) holds
//     its K and V tiles and streams the Q and dO tiles of every query head
//     of its GQA group: Sᵀ = K Qᵀ, dPᵀ = V dOᵀ, dSᵀ = Pᵀ ∘ (dPᵀ − D),
//     dV += Pᵀ dO, dK += dSᵀ Q; both are added to the fp32 accumulators.
//
// Why two kernels rather than FA2's one with atomic dQ: every accumulator
// row has exactly one writer and a fixed summation order, so the gradients
// are deterministic and need no global atomics (which the emulator would
// have to order); the price is recomputing S and dP once more (7 GEMMs of
// the block instead of 5). Masks (causal, window and padded parts from
// global positions, Visibility.h; ragged row ranges) and the causal tile skipping are those of the forward kernel
// (AttentionKernel.cpp), through maskVisible below. Packed documents
// (max_docs): the dQ kernel cuts each query row's keys to its document, the
// dK/dV kernel each key row's queries to the key's document (the same
// pairs), and both skip the streamed tiles that share no document with the
// CTA's resident rows (Documents.cpp).
//
// The sm_90a form (BackwardKernelConfig::wgmma, chosen with the forward's
// kernel kind, --gpu-kernel) is the same two kernels with the same loops,
// masks and epilogue; only the tiles and the GEMMs differ:
//   - a warpgroup owns 64 resident rows (its warps' 16-row slices, so the
//     fragment layout of every thread is the mma.sync one); 8 warps = 128
//     rows per CTA;
//   - tiles are 64-column panels with the 128-byte swizzle, filled by the
//     same double-buffered cp.async pipeline (each thread fences its landed
//     copies to the async proxy before the barrier that publishes them);
//   - S/dP (or Sᵀ/dPᵀ) = wgmma m64n<blockN>k16 with both operands from
//     K-major descriptors; dQ/dK/dV += wgmma m64n<D>k16 with the fp32
//     P/dS rounded into A fragments in registers (the accumulator layout is
//     the A layout) and B from an MN-major descriptor of the streamed tile.
// The descriptor and GEMM pieces are the forward wgmma kernel's
// (WgmmaFragments.h). Why cp.async rather than the forward's TMA producer
// warpgroup: the backward launch passes plain pointers (no tensor maps),
// and the pipeline, its race checks and its tests stay those of the
// mma.sync kernels; a TMA / warp-specialized producer (setmaxnreg giving
// the consumers 240 registers) is the next step, to tune on a real GPU.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/TargetInfo.h"
#include "codegen/gpu/WgmmaFragments.h"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

BackwardKernelConfig mlir::ring::gpu::defaultBackwardConfig(int64_t headDim) {
  BackwardKernelConfig c;
  c.headDim = headDim;
  c.warps = 4;
  c.blockN = headDim <= 64 ? 64 : 32;
  return c;
}

BackwardKernelConfig
mlir::ring::gpu::defaultWgmmaBackwardConfig(int64_t headDim) {
  BackwardKernelConfig c;
  c.headDim = headDim;
  c.wgmma = true;
  c.warps = 8;
  c.blockN = headDim <= 64 ? 64 : 32;
  return c;
}

std::string BackwardKernelConfig::suffix() const {
  return dtype + "_d" + std::to_string(headDim) + "_" +
         stringifyMaskKind(mask).str() + "_" + stringifyBalance(layout).str() +
         window.suffix() + padding.suffix() + "_w" + std::to_string(warps) +
         "_n" + std::to_string(blockN) + documentsSuffix(maxDocs);
}

std::string BackwardKernelConfig::dqKernelName() const {
  return std::string(wgmma ? "ringc_bwd_wgmma_dq_" : "ringc_bwd_dq_") +
         suffix();
}

std::string BackwardKernelConfig::dkdvKernelName() const {
  return std::string(wgmma ? "ringc_bwd_wgmma_dkdv_" : "ringc_bwd_dkdv_") +
         suffix();
}

int64_t BackwardKernelConfig::tileBytes(int64_t rows) const {
  if (!wgmma)
    return rows * paddedRowBytes(paddedHeadDim());
  int64_t panels = (headDim + WgmmaAttentionConfig::kPanelCols - 1) /
                   WgmmaAttentionConfig::kPanelCols;
  return panels * rows * 128;
}

int64_t BackwardKernelConfig::sharedBytes() const {
  // Either kernel: two resident tiles of 16·warps rows and two
  // double-buffered streamed tiles of blockN rows; wgmma: 1024 bytes of
  // alignment slack (the 128-byte swizzle works on absolute address bits).
  // dK/dV kernel, wgmma: lse and D of the streamed tiles, f32 [2][2][BN].
  return (wgmma ? 1024 + 16 * blockN : 0) + 2 * tileBytes(16 * warps) +
         4 * tileBytes(blockN);
}

std::string BackwardKernelConfig::validate(const TargetInfo &target) const {
  if (std::string error = checkMmaDtype(dtype, target); !error.empty())
    return error;
  // Any head_dim on mma.sync: rows are padded to k16 with zeros in shared
  // memory (MmaFragments::copyRows; odd ones through registers).
  if (headDim <= 0)
    return "local head_dim " + std::to_string(headDim) +
           " must be positive";
  if (wgmma && headDim % 16 != 0)
    return "local head_dim " + std::to_string(headDim) +
           " is not a multiple of 16: the wgmma backward kernels need one "
           "(k16 steps over swizzled panels); --gpu-kernel=mma takes any "
           "head_dim";
  if (headDim > 128)
    return "local head_dim " + std::to_string(headDim) +
           " is above 128: the backward dK/dV kernel keeps both fp32 "
           "accumulators in registers (head_dim floats per thread); use "
           "head_dim <= 128 on GPU, or --target=cpu";
  if (warps < 1 || warps > 8)
    return "warps per CTA must be in 1..8, got " + std::to_string(warps);
  if (blockN < 16 || blockN % 16 != 0)
    return "the streamed tile (block-n) must be a positive multiple of 16, "
           "got " +
           std::to_string(blockN);
  if (wgmma) {
    if (target.smVersion() != 90 || !target.chip().ends_with("a"))
      return "the wgmma backward kernels need sm_90a, not " +
             target.chip().str() + " (use --gpu-kernel=mma)";
    if (warps % 4 != 0)
      return "the wgmma backward kernels take whole warpgroups: warps per "
             "CTA must be 4 or 8, got " +
             std::to_string(warps);
    if (blockN > 256)
      return "the streamed tile (block-n) is the N of wgmma m64nNk16: at "
             "most 256, got " +
             std::to_string(blockN);
  }
  if (sharedBytes() > target.maxSharedBytes())
    return "the backward tiles need " + std::to_string(sharedBytes()) +
           " bytes of shared memory, more than " + target.chip().str() +
           " offers (" + std::to_string(target.maxSharedBytes()) +
           "); use fewer warps or a smaller block-n";
  // Registers per thread of the dK/dV kernel: dK and dV (head_dim floats),
  // Sᵀ and dPᵀ (blockN floats), addressing.
  // The wgmma form keeps no B fragments in registers (operands come from
  // shared memory), which leaves about 32 more.
  int64_t regs = headDim + blockN + (wgmma ? 32 : 64);
  if (regs > 230)
    return "head_dim " + std::to_string(headDim) + " with block-n " +
           std::to_string(blockN) + " needs about " + std::to_string(regs) +
           " registers per thread in the backward kernels; use a smaller "
           "block-n";
  return "";
}

std::string mlir::ring::gpu::maskVisible(MlirEmitter &e, MaskKind mask,
                                         const KernelWindow &window,
                                         const std::string &inRange,
                                         const std::string &qPos,
                                         const std::string &kPos) {
  std::string vis = inRange;
  if (mask == MaskKind::causal)
    vis = e.let("arith.andi " + inRange + ", " + e.cmp("sle", kPos, qPos) +
                " : i1");
  return andI1(e, vis, windowAdmits(e, window, qPos, kPos));
}

namespace {

/// The parameter list both backward kernels share (Kernels.h).
constexpr const char *kBackwardParams =
    "%q: !llvm.ptr, %k: !llvm.ptr, %v: !llvm.ptr, %do: !llvm.ptr, "
    "%lse: !llvm.ptr, %delta: !llvm.ptr, %dq: !llvm.ptr, %dk: !llvm.ptr, "
    "%dv: !llvm.ptr, %heads: i32, %kv_heads: i32, %q_len: i32, "
    "%kv_len: i32, %q0: i32, %qn: i32, %k0: i32, %kn: i32, %q_owner: i32, "
    "%kv_owner: i32, %ring: i32, %scale_log2: f32, %scale: f32";

/// Writes one of the two backward kernels; the shared prologue, fragments
/// and epilogue live here, the two loops in dq() and dkdv().
class BackwardWriter {
public:
  explicit BackwardWriter(const BackwardKernelConfig &c)
      : c(c), D(c.headDim), Dp(c.paddedHeadDim()), BN(c.blockN),
        BM(16 * c.warps), T(32 * c.warps), RB(paddedRowBytes(Dp)),
        halfTy(c.dtype == "f16" ? "f16" : "bf16"),
        causal(c.mask == MaskKind::causal), wg(c.wgmma),
        docs(c.maxDocs > 0) {}

  std::string dq();
  std::string dkdv();

private:
  void prologue();
  /// The layout's position of local row `i` (with padded parts the part's
  /// formula, which grows with i: the causal tile skipping stays a prefix).
  std::string pos(const std::string &i, const std::string &owner,
                  const std::string &len) {
    return partPosition(e, c.layout, i, owner, len, "%ring", c.padding);
  }
  /// The position the masks compare (padding rows: the sentinels of
  /// Visibility.h, maskPosition).
  std::string maskPos(const std::string &i, const std::string &owner,
                      const std::string &len, bool isKey) {
    return maskPosition(e, c.layout, i, owner, len, "%ring", c.padding, isKey);
  }
  /// cp.async of a tile: padded rows (ldmatrix) or swizzled panels
  /// (wgmma descriptors).
  void copyTile(int64_t rows, const std::string &gptr, const std::string &base,
                const std::string &r0, const std::string &last,
                const std::string &soff) {
    if (wg)
      f->copyRowsSwizzled(rows, D, gptr, base, r0, last, soff);
    else
      f->copyRows(rows, D, RB, gptr, base, r0, last, soff, Dp);
  }
  /// Waits for all but the newest cp.async group and makes the tiles visible
  /// to every thread (and, for wgmma, to the async proxy that reads the
  /// descriptors: each thread fences its own completed copies first).
  void waitTiles() {
    e.line("nvvm.cp.async.wait.group 1");
    if (wg)
      e.line("nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, "
             "space = #nvvm.shared_space<cta>}");
    e.line("gpu.barrier");
  }
  /// X = R · Sᵀ over the head dim (the score-shaped GEMMs: S = Q Kᵀ, dP =
  /// dO Vᵀ, or their transposes in the dK/dV kernel): R is the resident
  /// tile at byte offset `resOff` (the thread's 16 rows: its warp's), S the
  /// streamed tile of BN rows at `strOff` (i32). Returns BN/8 n8 fragments.
  std::vector<std::array<std::string, 4>> scoreGemm(int64_t resOff,
                                                    const std::string &strOff) {
    const int64_t nS = BN / 8;
    if (!wg)
      return gemmABt(resOff ? e.add(aLane, e.i32(resOff)) : aLane,
                     e.add(strOff, bLane), nS, Dp / 16);
    // The warpgroup's 64 rows start 64 rows into each panel of the tile.
    std::string wgRows = e.mul(warpgroup, e.i32(64 * 128));
    std::vector<std::string> v = w->ssGemmSteps(
        BN, w->descriptor(e.add(e.i32(resOff), wgRows), 16, 1024),
        WgmmaFragments::kMajorStepBytes(D, BM), w->descriptor(strOff, 16, 1024),
        WgmmaFragments::kMajorStepBytes(D, BN));
    std::vector<std::array<std::string, 4>> X(nS);
    for (int64_t n = 0; n < nS; ++n)
      for (int i = 0; i < 4; ++i)
        X[n][i] = v[n * 4 + i];
    return X;
  }
  /// acc += X · S where X (the thread's 16 rows x BN, fp32 fragments) is
  /// rounded into A fragments and S is the streamed [BN, D] tile at `strOff`
  /// (its rows are the k dimension).
  void accGemm(std::vector<std::array<std::string, 4>> &acc,
               const std::vector<std::array<std::string, 4>> &X,
               const std::string &strOff) {
    if (!wg) {
      gemmXB(acc, X, e.add(strOff, btLane));
      return;
    }
    std::vector<std::string> flat;
    for (auto &t : acc)
      flat.insert(flat.end(), t.begin(), t.end());
    flat = w->rsGemm(flat, WgmmaFragments::packA(*f, X),
                     w->mnMajorSteps(strOff, BN, BN));
    for (size_t n = 0; n < acc.size(); ++n)
      for (int i = 0; i < 4; ++i)
        acc[n][i] = flat[n * 4 + i];
  }
  /// An f32 load of element `elem` (i64) of the global buffer `p`.
  std::string loadF32(const std::string &p, const std::string &elem) {
    return e.let("llvm.load " + e.gep(p, e.mul(elem, e.i64(4), "i64"), 1, "i64") +
                 " : !llvm.ptr<1> -> f32");
  }
  /// lse · log2(e) of query row `row` (clamped into the range by the
  /// caller); +inf for a fully masked row (LSE = −inf), so that P =
  /// exp2(s − lse) is 0 there, never inf.
  std::string lseLog2(const std::string &elem) {
    std::string l = loadF32(lseg, elem);
    return e.select(e.fcmp("oeq", l, e.negInf()),
                    e.f32(std::numeric_limits<float>::infinity()),
                    e.fmul(l, e.f32(1.4426950408889634)), "f32");
  }
  /// P = exp2(s · scale · log2 e − lse · log2 e) where `vis`, else 0, and
  /// dS = P ∘ (dP − D) of one score (both kernels).
  std::pair<std::string, std::string>
  gradScore(const std::string &s, const std::string &dp,
            const std::string &lseL2, const std::string &delta,
            const std::string &vis) {
    std::string p = e.exp2(e.fsub(e.fmul(s, "%scale_log2"), lseL2));
    p = e.select(vis, p, e.f32(0.0), "f32");
    return {p, e.fmul(p, e.fsub(dp, delta))};
  }
  /// C += A·B over k = 16·kSteps for `nTiles` n8 tiles: A from shared
  /// memory at `aBase` + the warp's lane offset, B (not transposed) at
  /// `bBase` + bLaneOffset.
  std::vector<std::array<std::string, 4>>
  gemmABt(const std::string &aBase, const std::string &bBase, int64_t nTiles,
          int64_t kSteps) {
    std::vector<std::array<std::string, 4>> C(nTiles);
    for (auto &t : C)
      t = {e.f32(0.0), e.f32(0.0), e.f32(0.0), e.f32(0.0)};
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      auto a = f->ldmatrix(e.add(aBase, e.i32(kk * 32)), /*trans=*/false);
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        auto b = f->ldmatrix(e.add(bBase, e.i32(np * 16 * RB + kk * 32)),
                             /*trans=*/false);
        C[2 * np] = f->mma(a, b[0], b[1], C[2 * np]);
        C[2 * np + 1] = f->mma(a, b[2], b[3], C[2 * np + 1]);
      }
    }
    return C;
  }
  /// Acc += X·B where X (16 × 16·kSteps, fp32 accumulator fragments) is
  /// packed into A fragments and B is a row-major [16·kSteps, D] shared tile
  /// read transposed at `bBase` + bTransLaneOffset.
  void gemmXB(std::vector<std::array<std::string, 4>> &acc,
              const std::vector<std::array<std::string, 4>> &X,
              const std::string &bBase) {
    for (size_t kk = 0; kk < X.size() / 2; ++kk) {
      std::array<std::string, 4> a = {
          f->pack(X[2 * kk][0], X[2 * kk][1]),
          f->pack(X[2 * kk][2], X[2 * kk][3]),
          f->pack(X[2 * kk + 1][0], X[2 * kk + 1][1]),
          f->pack(X[2 * kk + 1][2], X[2 * kk + 1][3])};
      for (int64_t dp = 0; dp < Dp / 16; ++dp) {
        auto b = f->ldmatrix(
            e.add(bBase, e.i32(static_cast<int64_t>(kk) * 16 * RB + dp * 32)),
            /*trans=*/true);
        acc[2 * dp] = f->mma(a, b[0], b[1], acc[2 * dp]);
        acc[2 * dp + 1] = f->mma(a, b[2], b[3], acc[2 * dp + 1]);
      }
    }
  }
  /// Adds `factor` · the fragments `acc` (n8 tiles, starting at
  /// loop-result index `first`) to the fp32 rows `rows` (< end) of `out`,
  /// whose row `row` starts at element (rowBase + row) · D. Only columns
  /// below D are written: a tile that crosses D guards the thread's column
  /// pair (2·t4, +1), and with an odd D its second column (storeF32Pair).
  void addRows(const std::function<std::string(int64_t)> &acc,
               const std::string rows[2], const std::string &end,
               const std::string &rowBase, const std::string &out,
               const std::string &factor) {
    for (int r = 0; r < 2; ++r) {
      e.open("scf.if " + e.cmp("slt", rows[r], end) + " {");
      std::string row =
          e.mul(e.add(rowBase, e.ext64(rows[r]), "i64"), e.i64(D), "i64");
      for (int64_t n = 0; n < (D + 7) / 8; ++n) {
        std::string col0 = e.add(e.mul(t4, e.i32(2)), e.i32(n * 8));
        bool crosses = (n + 1) * 8 > D;
        if (crosses)
          e.open("scf.if " + e.cmp("slt", col0, e.i32(D)) + " {");
        storeF32Pair(e, out, row, col0, D, crosses, /*readOld=*/true,
                     [&](int col, const std::function<std::string()> &old) {
                       return e.fadd(old(),
                                     factor.empty()
                                         ? acc(n * 4 + 2 * r + col)
                                         : e.fmul(acc(n * 4 + 2 * r + col),
                                                  factor));
                     });
        if (crosses)
          e.close();
      }
      e.close();
    }
  }
  /// Opens `scf.for` over [lo, hi) carrying `init` (all f32); returns the
  /// loop's result name, the induction variable and the carried names.
  std::string openLoop(const std::string &lo, const std::string &hi,
                       const std::vector<std::string> &init, std::string &iv,
                       std::vector<std::string> &names, std::string &types) {
    std::string header;
    names.clear();
    types.clear();
    for (size_t i = 0; i < init.size(); ++i) {
      names.push_back(e.newName());
      header += (i ? ", " : "") + names[i] + " = " + init[i];
      types += (i ? ", f32" : "f32");
    }
    std::string loop = e.newName();
    iv = e.newName();
    e.open(loop + ":" + std::to_string(init.size()) + " = scf.for " + iv +
           " = " + lo + " to " + hi + " step " + e.i32(1) + " iter_args(" +
           header + ") -> (" + types + ") : i32 {");
    return loop;
  }
  /// Packed documents: the queries that key position `kp` (i32) is visible
  /// to, as one range: its document `doc` cut by the causal mask (qp >= kp)
  /// and the window (kp + minDiff <= qp <= kp + maxDiff); rowKeyRange seen
  /// from the key. Positions stay within ±3·span and the window's sides
  /// within ±seq (KernelWindow), so the sums fit i32 (GpuModuleBuilder).
  DocumentBounds keyQueryRange(const DocumentBounds &doc,
                               const std::string &kp) {
    auto maxs = [&](const std::string &a, const std::string &b) {
      return e.let("arith.maxsi " + a + ", " + b + " : i32");
    };
    DocumentBounds r = doc;
    if (causal)
      r.first = maxs(r.first, kp);
    if (c.window.minDiff)
      r.first = maxs(r.first, e.add(kp, e.i32(*c.window.minDiff)));
    if (c.window.maxDiff)
      r.last = e.let("arith.minsi " + r.last + ", " +
                     e.add(kp, e.i32(*c.window.maxDiff)) + " : i32");
    return r;
  }
  /// Packed documents: the range of the `count` streamed tiles of BN rows
  /// from local row `r0` (clamped to `last`, of the buffer of `owner` and
  /// `len`) that can hold a row of the documents from that of position
  /// `first` to that of position `lastPos` (the resident rows' first and
  /// last positions; documentTileRange).
  TileRange streamedDocumentTiles(const std::string &count,
                                  const std::string &r0,
                                  const std::string &last,
                                  const std::string &owner,
                                  const std::string &len,
                                  const std::string &first,
                                  const std::string &lastPos) {
    std::string lo = documentBounds(e, cug, c.maxDocs, first).first;
    std::string hi = documentBounds(e, cug, c.maxDocs, lastPos).last;
    auto row = [&](const std::string &t) {
      return e.add(r0, e.mul(t, e.i32(BN)));
    };
    return documentTileRange(
        e, count, lo, hi,
        [&](const std::string &t) { return pos(row(t), owner, len); },
        [&](const std::string &t) {
          return pos(e.minu(e.add(row(t), e.i32(BN - 1)), last), owner, len);
        });
  }
  std::string wrap(const std::string &name) {
    return "  gpu.func @" + name + "(" + kBackwardParams +
           (docs ? ", %cu_seqlens: !llvm.ptr" : "") +
           ") kernel attributes {known_block_size = array<i32: " +
           std::to_string(T) +
           ", 1, 1>, nvvm.minctasm = 1 : i32, nvvm.maxnreg = " +
           std::to_string(TargetInfo::kMaxRegisters) + " : i32} {\n" +
           e.str() + "  }\n";
  }

  const BackwardKernelConfig &c;
  /// The head dim and (mma.sync) its padding to the MMA's k16 in shared
  /// memory and in the register tiles: padding columns are zero-filled by
  /// cp.async, so they add nothing, and are never written out.
  const int64_t D, Dp, BN, BM, T, RB;
  const std::string halfTy;
  const bool causal, wg, docs;
  MlirEmitter e;
  std::optional<MmaFragments> f;
  std::optional<WgmmaFragments> w;
  std::string smem, lane, warp, g, t4;
  /// ldmatrix lane offsets (mma.sync) or the warpgroup index (wgmma).
  std::string aLane, bLane, btLane, warpgroup;
  /// cug: cu_seqlens (packed documents).
  std::string qg, kg, vg, dog, lseg, deltag, dqg, dkg, dvg, cug;
  std::string hk, group, qEnd, lastQ, kEnd, lastK;
};

} // namespace

void BackwardWriter::prologue() {
  emitBlockCoordinates(e, lane, warp);
  g = e.let("arith.shrui " + lane + ", " + e.i32(2) + " : i32");
  t4 = e.let("arith.andi " + lane + ", " + e.i32(3) + " : i32");
  smem = e.let("llvm.mlir.addressof @ringc_smem : !llvm.ptr<3>");
  if (wg) {
    // Aligned up to 1024 bytes (sharedBytes() reserves the slack), as in
    // the forward wgmma kernel.
    std::string raw = smem;
    w.emplace(e, halfTy, WgmmaFragments::alignedSharedBase(e, raw, smem));
    warpgroup = e.let("arith.shrui %tid, " + e.i32(7) + " : i32");
  }
  f.emplace(e, halfTy, smem, "%tid", T);
  auto global = [&](const char *p) {
    return e.let(std::string("llvm.addrspacecast %") + p +
                 " : !llvm.ptr to !llvm.ptr<1>");
  };
  qg = global("q");
  kg = global("k");
  vg = global("v");
  dog = global("do");
  lseg = global("lse");
  deltag = global("delta");
  dqg = global("dq");
  dkg = global("dk");
  dvg = global("dv");
  if (docs)
    cug = documentsPointer(e);
  group = e.divu("%heads", "%kv_heads");
  qEnd = e.add("%q0", "%qn");
  lastQ = e.sub(qEnd, e.i32(1));
  kEnd = e.add("%k0", "%kn");
  lastK = e.sub(kEnd, e.i32(1));
}

std::string BackwardWriter::dq() {
  prologue();
  // Grid (ceil(qn / BM), heads, batch): query head %h, key/value head hk.
  hk = e.divu("%h", group);
  const int64_t nS = BN / 8, nO = Dp / 8;
  const int64_t qBytes = c.tileBytes(BM), kvBytes = c.tileBytes(BN);
  std::string rowQ0 = e.add("%q0", e.mul("%bx", e.i32(BM)));
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), hk);
  std::string qRowBase = e.mul(e.ext64(bh), e.ext64("%q_len"), "i64");
  std::string qBase = e.mul(qRowBase, e.i64(D), "i64");
  std::string kvBase =
      e.mul(e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64"), e.i64(D), "i64");
  std::string warpRow = e.add(rowQ0, e.mul(warp, e.i32(16)));
  std::string rows[2] = {e.add(warpRow, g), e.add(e.add(warpRow, g), e.i32(8))};

  // KV tiles to visit: under a causal mask the prefix visible to the CTA's
  // last query (as in the forward kernel).
  std::string nt = e.divu(e.add("%kn", e.i32(BN - 1)), e.i32(BN));
  std::string qPos[2];
  // Packed documents: the KV tiles [jLo, jEnd) that can hold a key of the
  // documents of the CTA's rows (without documents [0, nt)).
  TileRange docTiles;
  if (docs) {
    std::string lastRow = e.minu(e.add(rowQ0, e.i32(BM - 1)), lastQ);
    docTiles = streamedDocumentTiles(nt, "%k0", lastK, "%kv_owner", "%kv_len",
                                     pos(rowQ0, "%q_owner", "%q_len"),
                                     pos(lastRow, "%q_owner", "%q_len"));
  }
  if (causal) {
    std::string lastRow = e.minu(e.add(rowQ0, e.i32(BM - 1)), lastQ);
    std::string maxPos = pos(lastRow, "%q_owner", "%q_len");
    nt = emitCount(e, nt, [&](const std::string &j) {
      std::string kr = e.add("%k0", e.mul(j, e.i32(BN)));
      return e.cmp("sle", pos(kr, "%kv_owner", "%kv_len"), maxPos);
    });
  }
  std::string jLo = e.i32(0), jEnd = nt;
  if (docs) {
    jLo = docTiles.begin;
    jEnd = causal ? e.minu(docTiles.end, nt) : docTiles.end;
  }
  // Positions for the causal mask, the sliding window and the documents.
  const bool positional = causal || c.window.any() || docs;
  if (positional)
    for (int r = 0; r < 2; ++r)
      qPos[r] = maskPos(rows[r], "%q_owner", "%q_len", /*isKey=*/false);
  // The keys each row sees, as one range: its document cut by the causal
  // mask and the window (rowKeyRange; a padding row's sentinel gets an
  // empty one).
  DocumentBounds qKeys[2];
  if (docs)
    for (int r = 0; r < 2; ++r)
      qKeys[r] = rowKeyRange(e, documentBounds(e, cug, c.maxDocs, qPos[r]),
                             qPos[r], causal, c.window);
  // Per row: lse · log2 e and D (rows past the tail read the last row).
  std::string lseL2[2], dl[2];
  for (int r = 0; r < 2; ++r) {
    std::string at = e.add(qRowBase, e.ext64(e.minu(rows[r], lastQ)), "i64");
    lseL2[r] = lseLog2(at);
    dl[r] = loadF32(deltag, at);
  }

  // Shared memory: Q, dO, then K[2], V[2].
  auto kOff = [&](const std::string &buf) {
    return e.add(e.i32(2 * qBytes), e.mul(buf, e.i32(kvBytes)));
  };
  auto vOff = [&](const std::string &buf) {
    return e.add(e.i32(2 * qBytes + 2 * kvBytes), e.mul(buf, e.i32(kvBytes)));
  };
  auto copyKV = [&](const std::string &tile) {
    std::string buf = e.let("arith.andi " + tile + ", " + e.i32(1) + " : i32");
    std::string r0 = e.add("%k0", e.mul(tile, e.i32(BN)));
    copyTile(BN, kg, kvBase, r0, lastK, kOff(buf));
    copyTile(BN, vg, kvBase, r0, lastK, vOff(buf));
  };
  copyTile(BM, qg, qBase, rowQ0, lastQ, e.i32(0));
  copyTile(BM, dog, qBase, rowQ0, lastQ, e.i32(qBytes));
  e.open("scf.if " + e.cmp("slt", jLo, jEnd) + " {");
  copyKV(jLo);
  e.close();
  e.line("nvvm.cp.async.commit.group");

  if (!wg) {
    aLane = f->aLaneOffset(lane, e.mul(warp, e.i32(16)), RB);
    bLane = f->bLaneOffset(lane, RB);
    btLane = f->bTransLaneOffset(lane, RB);
  }

  std::vector<std::string> init(nO * 4, e.f32(0.0)), names;
  std::string j, types;
  std::string loop = openLoop(jLo, jEnd, init, j, names, types);
  {
    std::string jn = e.add(j, e.i32(1));
    e.open("scf.if " + e.cmp("slt", jn, jEnd) + " {");
    copyKV(jn);
    e.close();
    e.line("nvvm.cp.async.commit.group");
    waitTiles();
    std::string buf = e.let("arith.andi " + j + ", " + e.i32(1) + " : i32");
    // S = Q Kᵀ and dP = dO Vᵀ.
    auto S = scoreGemm(0, kOff(buf));
    auto dP = scoreGemm(qBytes, vOff(buf));
    // P = exp2(S · scale · log2 e − lse · log2 e) where visible, else 0;
    // dS = P ∘ (dP − D), in place of S.
    std::string key0 =
        e.add(e.add("%k0", e.mul(j, e.i32(BN))), e.mul(t4, e.i32(2)));
    for (int64_t n = 0; n < nS; ++n)
      for (int col = 0; col < 2; ++col) {
        std::string key = e.add(key0, e.i32(n * 8 + col));
        std::string ok = e.cmp("slt", key, kEnd);
        std::string kp =
            positional ? maskPos(key, "%kv_owner", "%kv_len", /*isKey=*/true)
                       : "";
        for (int r = 0; r < 2; ++r) {
          std::string vis =
              docs ? andI1(e, ok, documentAdmits(e, qKeys[r], kp))
                   : maskVisible(e, c.mask, c.window, ok, qPos[r], kp);
          std::string &s = S[n][2 * r + col];
          s = gradScore(s, dP[n][2 * r + col], lseL2[r], dl[r], vis).second;
        }
      }
    // dQ += dS K (K read transposed: keys are the k dimension).
    std::vector<std::array<std::string, 4>> acc(nO);
    for (int64_t n = 0; n < nO; ++n)
      for (int i = 0; i < 4; ++i)
        acc[n][i] = names[n * 4 + i];
    accGemm(acc, S, kOff(buf));
    e.line("gpu.barrier");
    std::string yield;
    for (int64_t n = 0; n < nO; ++n)
      for (int i = 0; i < 4; ++i)
        yield += (yield.empty() ? "" : ", ") + acc[n][i];
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  e.line("nvvm.cp.async.wait.group 0");
  auto res = [&](int64_t i) { return loop + "#" + std::to_string(i); };
  addRows(res, rows, qEnd, qRowBase, dqg, "%scale");
  e.line("gpu.return");
  return wrap(c.dqKernelName());
}

std::string BackwardWriter::dkdv() {
  prologue();
  // Grid (ceil(kn / BM), kv_heads, batch): key/value head %h; the CTA walks
  // the query heads hk·group .. hk·group + group − 1 of its GQA group.
  const int64_t nS = BN / 8, nO = Dp / 8;
  const int64_t kBytes = c.tileBytes(BM), qTile = c.tileBytes(BN);
  std::string rowK0 = e.add("%k0", e.mul("%bx", e.i32(BM)));
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), "%h");
  std::string kRowBase = e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64");
  std::string kBase = e.mul(kRowBase, e.i64(D), "i64");
  std::string warpRow = e.add(rowK0, e.mul(warp, e.i32(16)));
  std::string rows[2] = {e.add(warpRow, g), e.add(e.add(warpRow, g), e.i32(8))};

  // Query tiles: under a causal mask those whose last query precedes the
  // CTA's first key see nothing; positions grow with the local index, so
  // they are a prefix, skipped.
  std::string ntAll = e.divu(e.add("%qn", e.i32(BN - 1)), e.i32(BN));
  std::string first = e.i32(0);
  std::string kPos[2];
  if (causal) {
    std::string minPos = pos(rowK0, "%kv_owner", "%kv_len");
    first = emitCount(e, ntAll, [&](const std::string &t) {
      std::string last = e.minu(
          e.add(e.add("%q0", e.mul(t, e.i32(BN))), e.i32(BN - 1)), lastQ);
      return e.cmp("slt", pos(last, "%q_owner", "%q_len"), minPos);
    });
  }
  const bool positional = causal || c.window.any() || docs;
  if (positional)
    for (int r = 0; r < 2; ++r)
      kPos[r] = maskPos(rows[r], "%kv_owner", "%kv_len", /*isKey=*/true);
  std::string nt = e.sub(ntAll, first);
  if (docs) {
    // Packed documents: the query tiles that can hold a query of the
    // documents of the CTA's keys (pairs are symmetric), after the causal
    // prefix.
    std::string lastRow = e.minu(e.add(rowK0, e.i32(BM - 1)), lastK);
    TileRange range = streamedDocumentTiles(
        ntAll, "%q0", lastQ, "%q_owner", "%q_len",
        pos(rowK0, "%kv_owner", "%kv_len"),
        pos(lastRow, "%kv_owner", "%kv_len"));
    first = causal ? e.select(e.cmp("sgt", range.begin, first), range.begin,
                              first, "i32")
                   : range.begin;
    nt = e.select(e.cmp("sgt", range.end, first), e.sub(range.end, first),
                  e.i32(0), "i32");
  }
  // The queries each key row is seen by, as one range: the key's document
  // (the pairs of the query's document holding the key) cut by the causal
  // mask and the window (keyQueryRange). A padding key's sentinel gets the
  // last document (Kernels.h), which the mask's padding side then empties.
  DocumentBounds kQueries[2];
  if (docs)
    for (int r = 0; r < 2; ++r)
      kQueries[r] = keyQueryRange(documentBounds(e, cug, c.maxDocs, kPos[r]),
                                  kPos[r]);
  std::string total = e.mul(nt, group);
  // Iteration `it` visits query head hk·group + it / nt, tile first + it % nt.
  auto qTileOf = [&](const std::string &it, std::string &qRowBase) {
    std::string hq = e.add(e.mul("%h", group), e.divu(it, nt));
    std::string tile = e.add(first, e.remu(it, nt));
    std::string bh = e.add(e.mul("%b", "%heads"), hq);
    qRowBase = e.mul(e.ext64(bh), e.ext64("%q_len"), "i64");
    return e.add("%q0", e.mul(tile, e.i32(BN)));
  };
  auto qOff = [&](const std::string &buf) {
    return e.add(e.i32(2 * kBytes), e.mul(buf, e.i32(qTile)));
  };
  auto doOff = [&](const std::string &buf) {
    return e.add(e.i32(2 * kBytes + 2 * qTile), e.mul(buf, e.i32(qTile)));
  };
  // wgmma: lse · log2 e and D of the streamed tile's queries staged in
  // shared memory after dO[2] (BackwardKernelConfig::sharedBytes), [which]
  // [buf][BN] f32, which 0 = lse, 1 = D; the mma.sync kernel loads them per
  // column from global memory instead.
  auto statOff = [&](int which, const std::string &buf) {
    return e.add(e.i32(2 * kBytes + 4 * qTile + which * 2 * BN * 4),
                 e.mul(buf, e.i32(BN * 4)));
  };
  auto copyQ = [&](const std::string &it) {
    std::string buf = e.let("arith.andi " + it + ", " + e.i32(1) + " : i32");
    std::string qRowBase;
    std::string r0 = qTileOf(it, qRowBase);
    std::string base = e.mul(qRowBase, e.i64(D), "i64");
    copyTile(BN, qg, base, r0, lastQ, qOff(buf));
    copyTile(BN, dog, base, r0, lastQ, doOff(buf));
    if (!wg)
      return;
    // One value per thread: element idx < 2·BN is row idx mod BN (clamped
    // into the range) of lse (idx < BN) or D. Published by the barrier of
    // waitTiles, like the cp.async tiles.
    for (int64_t first = 0; first < 2 * BN; first += T) {
      std::string idx = e.add("%tid", e.i32(first));
      e.open("scf.if " + e.cmp("ult", idx, e.i32(2 * BN)) + " {");
      std::string i = e.remu(idx, e.i32(BN));
      std::string at =
          e.add(qRowBase, e.ext64(e.minu(e.add(r0, i), lastQ)), "i64");
      std::string isLse = e.cmp("ult", idx, e.i32(BN));
      std::string v = e.select(isLse, lseLog2(at), loadF32(deltag, at), "f32");
      std::string off = e.add(e.add(statOff(0, buf),
                                    e.mul(e.divu(idx, e.i32(BN)),
                                          e.i32(2 * BN * 4))),
                              e.mul(i, e.i32(4)));
      e.line("llvm.store " + v + ", " + e.gep(smem, off, 3) +
             " : f32, !llvm.ptr<3>");
      e.close();
    }
  };
  // Shared memory: K, V, then Q[2], dO[2].
  copyTile(BM, kg, kBase, rowK0, lastK, e.i32(0));
  copyTile(BM, vg, kBase, rowK0, lastK, e.i32(kBytes));
  e.open("scf.if " + e.cmp("sgt", total, e.i32(0)) + " {");
  copyQ(e.i32(0));
  e.close();
  e.line("nvvm.cp.async.commit.group");

  if (!wg) {
    aLane = f->aLaneOffset(lane, e.mul(warp, e.i32(16)), RB);
    bLane = f->bLaneOffset(lane, RB);
    btLane = f->bTransLaneOffset(lane, RB);
  }

  // Carried: dK (nO x 4), then dV (nO x 4).
  std::vector<std::string> init(2 * nO * 4, e.f32(0.0)), names;
  std::string it, types;
  std::string loop = openLoop(e.i32(0), total, init, it, names, types);
  {
    std::string itn = e.add(it, e.i32(1));
    e.open("scf.if " + e.cmp("slt", itn, total) + " {");
    copyQ(itn);
    e.close();
    e.line("nvvm.cp.async.commit.group");
    waitTiles();
    std::string buf = e.let("arith.andi " + it + ", " + e.i32(1) + " : i32");
    std::string qRowBase;
    std::string qr0 = qTileOf(it, qRowBase);
    // Sᵀ = K Qᵀ and dPᵀ = V dOᵀ (keys are the rows).
    auto S = scoreGemm(0, qOff(buf));
    auto dP = scoreGemm(kBytes, doOff(buf));
    // Pᵀ and dSᵀ; columns are queries qr0 + 8n + 2 t4 (+1).
    std::string qc0 = e.add(qr0, e.mul(t4, e.i32(2)));
    std::vector<std::array<std::string, 4>> P(nS);
    for (int64_t n = 0; n < nS; ++n)
      for (int col = 0; col < 2; ++col) {
        std::string qi = e.add(qc0, e.i32(n * 8 + col));
        std::string ok = e.cmp("slt", qi, qEnd);
        std::string l2, dl;
        if (wg) {
          std::string col4 =
              e.add(e.mul(t4, e.i32(8)), e.i32((n * 8 + col) * 4));
          auto ld = [&](int which) {
            return e.let("llvm.load " +
                         e.gep(smem, e.add(statOff(which, buf), col4), 3) +
                         " : !llvm.ptr<3> -> f32");
          };
          l2 = ld(0);
          dl = ld(1);
        } else {
          std::string at =
              e.add(qRowBase, e.ext64(e.minu(qi, lastQ)), "i64");
          l2 = lseLog2(at);
          dl = loadF32(deltag, at);
        }
        std::string qp =
            positional ? maskPos(qi, "%q_owner", "%q_len", /*isKey=*/false)
                       : "";
        for (int r = 0; r < 2; ++r) {
          std::string vis =
              docs ? andI1(e, ok, documentAdmits(e, kQueries[r], qp))
                   : maskVisible(e, c.mask, c.window, ok, qp, kPos[r]);
          std::string &s = S[n][2 * r + col];
          std::tie(P[n][2 * r + col], s) =
              gradScore(s, dP[n][2 * r + col], l2, dl, vis);
        }
      }
    std::vector<std::array<std::string, 4>> dK(nO), dV(nO);
    for (int64_t n = 0; n < nO; ++n)
      for (int i = 0; i < 4; ++i) {
        dK[n][i] = names[n * 4 + i];
        dV[n][i] = names[nO * 4 + n * 4 + i];
      }
    // dV += Pᵀ dO and dK += dSᵀ Q (queries are the k dimension).
    accGemm(dV, P, doOff(buf));
    accGemm(dK, S, qOff(buf));
    e.line("gpu.barrier");
    std::string yield;
    for (auto *acc : {&dK, &dV})
      for (int64_t n = 0; n < nO; ++n)
        for (int i = 0; i < 4; ++i)
          yield += (yield.empty() ? "" : ", ") + (*acc)[n][i];
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  e.line("nvvm.cp.async.wait.group 0");
  auto resK = [&](int64_t i) { return loop + "#" + std::to_string(i); };
  auto resV = [&](int64_t i) {
    return loop + "#" + std::to_string(nO * 4 + i);
  };
  addRows(resK, rows, kEnd, kRowBase, dkg, "%scale");
  addRows(resV, rows, kEnd, kRowBase, dvg, "");
  e.line("gpu.return");
  return wrap(c.dkdvKernelName());
}

std::string
mlir::ring::gpu::writeBackwardDqKernel(const BackwardKernelConfig &config) {
  return BackwardWriter(config).dq();
}

std::string
mlir::ring::gpu::writeBackwardDkDvKernel(const BackwardKernelConfig &config) {
  return BackwardWriter(config).dkdv();
}
