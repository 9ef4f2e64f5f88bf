//===- AttentionKernel.cpp - fused block-attention GPU kernel ---*- C++ -*-===//
//
// This file implements the generator of the fused block-attention kernel,
// FlashAttention-2 style: one CTA per (query tile, head, batch); the Q tile
// is copied once into shared memory and held across the KV loop; K and V
// tiles stream through shared memory with cp.async, double buffered; QKᵀ and
// PV run on mma.sync m16n8k16 (bf16/f16 operands from ldmatrix, f32
// accumulators); the softmax is online, in registers, on log2(e)-scaled
// scores with ex2; causal KV tiles past the CTA's last query are not
// visited, and the remaining scores are masked from global token positions
// (causal, sliding window and the padding rows of padded parts, Visibility.h;
// the owners of the Q and K/V blocks are kernel arguments); with packed
// documents each row's keys are cut to its document, and key tiles outside
// the documents of the CTA's rows are not visited (Documents.cpp); ragged tails
// are clamped on load and masked. The output is the normalised partial O and
// its LSE in fp32 (ring.block_attention), or, for the fused merge
// (ring.block_attention_accumulate), the block merged in registers into the
// running fp32 (O, LSE) of its rows (Kernels.h, AttentionEpilogue). The
// fragment operations and their register layout are in MmaFragments.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/TargetInfo.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

AttentionTiles mlir::ring::gpu::defaultAttentionTiles(int64_t headDim) {
  AttentionTiles t;
  t.warps = 4;
  t.blockN = headDim <= 64 ? 64 : headDim <= 128 ? 32 : 16;
  return t;
}

std::string AttentionKernelConfig::kernelName() const {
  std::string suffix = epilogue == AttentionEpilogue::Accumulate ? "_acc"
                       : epilogue == AttentionEpilogue::AccumulateFirst
                           ? "_acc_first"
                           : "";
  return "ringc_attn_" + dtype + "_d" + std::to_string(headDim) + "_" +
         stringifyMaskKind(mask).str() + "_" + stringifyBalance(layout).str() +
         window.suffix() + "_w" + std::to_string(tiles.warps) + "_n" +
         std::to_string(tiles.blockN) + padding.suffix() +
         documentsSuffix(maxDocs) + suffix;
}

int64_t AttentionKernelConfig::sharedBytes() const {
  return (tiles.blockM() + 4 * tiles.blockN) * paddedRowBytes(paddedHeadDim());
}

std::string gpu::checkMmaDtype(const std::string &dtype,
                              const TargetInfo &target) {
  if (dtype == "bf16" || dtype == "f16")
    return "";
  return "the GPU kernels take bf16 or f16 inputs (mma.sync m16n8k16); "
         "element type '" +
         dtype + "' is not supported on " + target.chip().str() +
         " (use --target=cpu for f32)";
}

std::string AttentionKernelConfig::validate(const TargetInfo &target) const {
  if (std::string error = checkMmaDtype(dtype, target); !error.empty())
    return error;
  // Any head_dim: rows are padded to the MMA's k16 with zeros in shared
  // memory (MmaFragments::copyRows; odd ones through registers).
  if (headDim <= 0)
    return "local head_dim " + std::to_string(headDim) +
           " must be positive";
  if (tiles.warps < 1 || tiles.warps > 8)
    return "warps per CTA must be in 1..8, got " +
           std::to_string(tiles.warps);
  if (tiles.blockN < 16 || tiles.blockN % 16 != 0)
    return "the KV tile (block-n) must be a positive multiple of 16, got " +
           std::to_string(tiles.blockN);
  if (sharedBytes() > target.maxSharedBytes())
    return "the tiles need " + std::to_string(sharedBytes()) +
           " bytes of shared memory, more than " + target.chip().str() +
           " offers (" + std::to_string(target.maxSharedBytes()) +
           "); use fewer warps or a smaller block-n";
  // Registers per thread: O accumulator D/2, scores blockN/2, P fragments
  // blockN/4, plus addressing; past ~200 ptxas spills.
  int64_t regs = paddedHeadDim() / 2 + tiles.blockN / 2 + tiles.blockN / 4 + 48;
  if (regs > 230)
    return "head_dim " + std::to_string(headDim) + " with block-n " +
           std::to_string(tiles.blockN) + " needs about " +
           std::to_string(regs) +
           " registers per thread; use a smaller block-n";
  return "";
}

namespace {

/// Writes one block-attention kernel.
class AttentionWriter {
public:
  explicit AttentionWriter(const AttentionKernelConfig &c)
      : c(c), D(c.headDim), Dp(c.paddedHeadDim()), BN(c.tiles.blockN),
        BM(c.tiles.blockM()), T(c.tiles.threads()), RB(paddedRowBytes(Dp)),
        qBytes(BM * RB), kvBytes(BN * RB),
        halfTy(c.dtype == "f16" ? "f16" : "bf16") {}

  std::string run();

private:
  /// Global position of local row `i` of a block owned by `owner` whose
  /// buffer holds `len` rows (with padded parts, that of the part's
  /// formula: it grows with i, so the causal tile count stays a prefix).
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
  /// cp.async of `rows` rows of D elements (MmaFragments::copyRows).
  void copyTile(int rows, const std::string &gptr, const std::string &base,
                const std::string &r0, const std::string &last,
                const std::string &soff) {
    f->copyRows(rows, D, RB, gptr, base, r0, last, soff, Dp);
  }

  const AttentionKernelConfig &c;
  /// The head dim, and the head dim padded to the MMA's k16 (the shared
  /// rows and the register tiles; the padding columns are zero).
  const int64_t D, Dp, BN, BM, T, RB, qBytes, kvBytes;
  const std::string halfTy;
  MlirEmitter e;
  std::string smem, lane;
  std::optional<MmaFragments> f;
};

} // namespace

std::string AttentionWriter::run() {
  const bool causal = c.mask == MaskKind::causal;
  const int64_t nS = BN / 8; // score n-tiles per warp
  const int64_t nO = Dp / 8; // output n-tiles per warp

  // Thread and block coordinates.
  std::string warp;
  emitBlockCoordinates(e, lane, warp);
  std::string g = e.let("arith.shrui " + lane + ", " + e.i32(2) + " : i32");
  std::string t4 = e.let("arith.andi " + lane + ", " + e.i32(3) + " : i32");
  smem = e.let("llvm.mlir.addressof @ringc_smem : !llvm.ptr<3>");
  f.emplace(e, halfTy, smem, "%tid", T);
  std::string qg = e.let("llvm.addrspacecast %q : !llvm.ptr to !llvm.ptr<1>");
  std::string kg = e.let("llvm.addrspacecast %k : !llvm.ptr to !llvm.ptr<1>");
  std::string vg = e.let("llvm.addrspacecast %v : !llvm.ptr to !llvm.ptr<1>");
  std::string pog = e.let("llvm.addrspacecast %po : !llvm.ptr to !llvm.ptr<1>");
  std::string plg = e.let("llvm.addrspacecast %pl : !llvm.ptr to !llvm.ptr<1>");

  // Rows and heads.
  std::string hk = e.divu("%h", e.divu("%heads", "%kv_heads"));
  std::string rowQ0 = e.add("%q0", e.mul("%bx", e.i32(BM)));
  std::string qEnd = e.add("%q0", "%qn");
  std::string lastQ = e.sub(qEnd, e.i32(1));
  std::string kEnd = e.add("%k0", "%kn");
  std::string lastK = e.sub(kEnd, e.i32(1));
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), hk);
  std::string qBase = e.mul(e.mul(e.ext64(bh), e.ext64("%q_len"), "i64"), e.i64(D), "i64");
  std::string kvBase = e.mul(e.mul(e.ext64(bhk), e.ext64("%kv_len"), "i64"), e.i64(D), "i64");
  std::string plRow0 = e.mul(e.ext64(bh), e.ext64("%p_len"), "i64");
  std::string warpRow = e.add(rowQ0, e.mul(warp, e.i32(16)));
  std::string rows[2] = {e.add(warpRow, g), e.add(e.add(warpRow, g), e.i32(8))};

  // KV tiles to visit, [t0, nt): all, or under a causal mask those whose
  // first key is visible to the CTA's last query (positions grow with the
  // local index in every layout, so the visible tiles are a prefix); with
  // packed documents only the tiles that reach the documents of the CTA's
  // rows (documentTileRange).
  const int64_t docs = c.maxDocs;
  std::string nt = e.divu(e.add("%kn", e.i32(BN - 1)), e.i32(BN));
  std::string t0 = e.i32(0);
  std::string qPos[2];
  std::string lastRow = e.minu(e.add(rowQ0, e.i32(BM - 1)), lastQ);
  auto firstKey = [&](const std::string &t) {
    return e.add("%k0", e.mul(t, e.i32(BN)));
  };
  std::string cu = docs ? documentsPointer(e) : "";
  // The documents of the CTA's first and last row (part positions, which
  // grow with the row; documentBounds is monotone, so every row's document
  // lies between them).
  DocumentBounds firstRowDoc, lastRowDoc;
  if (docs) {
    firstRowDoc = documentBounds(e, cu, docs, pos(rowQ0, "%q_owner", "%q_len"));
    lastRowDoc = documentBounds(e, cu, docs, pos(lastRow, "%q_owner", "%q_len"));
    std::string lo = firstRowDoc.first, hi = lastRowDoc.last;
    TileRange range = documentTileRange(
        e, nt, lo, hi,
        [&](const std::string &t) {
          return pos(firstKey(t), "%kv_owner", "%kv_len");
        },
        [&](const std::string &t) {
          std::string last = e.minu(e.add(firstKey(t), e.i32(BN - 1)), lastK);
          return pos(last, "%kv_owner", "%kv_len");
        });
    t0 = range.begin;
    nt = range.end;
  }
  if (causal) {
    std::string maxPos = pos(lastRow, "%q_owner", "%q_len");
    auto visibleTile = [&](const std::string &j) {
      return e.cmp("sle", pos(firstKey(j), "%kv_owner", "%kv_len"), maxPos);
    };
    // (The documents' variants count by bisection, as their tile range
    // does; the plain variants keep their loop.)
    std::string visible = docs ? emitPrefixCount(e, nt, visibleTile)
                               : emitCount(e, nt, visibleTile);
    // Never below t0: an empty range stays empty.
    nt = docs ? e.select(e.cmp("sgt", visible, t0), visible, t0, "i32")
              : visible;
  }
  // Positions for the causal mask, the sliding window, padded parts
  // (whose KernelWindow always tests a side, Kernels.h) and documents.
  const bool positional = causal || c.window.any() || docs;
  DocumentBounds doc[2];
  if (positional)
    for (int r = 0; r < 2; ++r) {
      qPos[r] = maskPos(rows[r], "%q_owner", "%q_len", /*isKey=*/false);
      // A padding row's sentinel (negative) gets an empty document; the
      // mask and the window cut the row's range once (rowKeyRange).
      if (docs)
        doc[r] = rowKeyRange(e, documentBounds(e, cu, docs, qPos[r]), qPos[r],
                             causal, c.window);
    }

  auto kOff = [&](const std::string &buf) {
    return e.add(e.i32(qBytes), e.mul(buf, e.i32(kvBytes)));
  };
  auto vOff = [&](const std::string &buf) {
    return e.add(e.i32(qBytes + 2 * kvBytes), e.mul(buf, e.i32(kvBytes)));
  };
  auto copyKV = [&](const std::string &tile) {
    std::string buf = e.let("arith.andi " + tile + ", " + e.i32(1) + " : i32");
    std::string r0 = e.add("%k0", e.mul(tile, e.i32(BN)));
    copyTile(BN, kg, kvBase, r0, lastK, kOff(buf));
    copyTile(BN, vg, kvBase, r0, lastK, vOff(buf));
  };

  // Prologue: the Q tile and KV tile 0 in one cp.async group.
  copyTile(BM, qg, qBase, rowQ0, lastQ, e.i32(0));
  e.open("scf.if " + e.cmp("sgt", nt, t0) + " {");
  copyKV(t0);
  e.close();
  e.line("nvvm.cp.async.commit.group");

  // Lane-dependent ldmatrix offsets (bytes).
  std::string aLane = f->aLaneOffset(lane, e.mul(warp, e.i32(16)), RB);
  std::string kLane = f->bLaneOffset(lane, RB);
  std::string vLane = f->bTransLaneOffset(lane, RB);

  // The KV loop. Carried: O (nO x 4), m (2 rows), l (2 rows, per-thread
  // partial sums).
  std::vector<std::string> init, names;
  for (int64_t i = 0; i < nO * 4; ++i)
    init.push_back(e.f32(0.0));
  init.push_back(e.negInf());
  init.push_back(e.negInf());
  init.push_back(e.f32(0.0));
  init.push_back(e.f32(0.0));
  std::string header, types;
  for (size_t i = 0; i < init.size(); ++i) {
    names.push_back(e.newName());
    header += (i ? ", " : "") + names[i] + " = " + init[i];
    types += (i ? ", f32" : "f32");
  }
  std::string loop = e.newName();
  std::string j = e.newName();
  e.open(loop + ":" + std::to_string(init.size()) + " = scf.for " + j + " = " +
         t0 + " to " + nt + " step " + e.i32(1) + " iter_args(" + header +
         ") -> (" + types + ") : i32 {");
  {
    std::string jn = e.add(j, e.i32(1));
    e.open("scf.if " + e.cmp("slt", jn, nt) + " {");
    copyKV(jn);
    e.close();
    e.line("nvvm.cp.async.commit.group");
    e.line("nvvm.cp.async.wait.group 1");
    e.line("gpu.barrier");
    std::string buf = e.let("arith.andi " + j + ", " + e.i32(1) + " : i32");
    std::string kS = e.add(kOff(buf), kLane);
    std::string vS = e.add(vOff(buf), vLane);

    // S = Q Kᵀ.
    std::vector<std::array<std::string, 4>> S(nS);
    for (auto &s : S)
      s = {e.f32(0.0), e.f32(0.0), e.f32(0.0), e.f32(0.0)};
    for (int64_t kk = 0; kk < Dp / 16; ++kk) {
      auto a = f->ldmatrix(e.add(aLane, e.i32(kk * 32)), /*trans=*/false);
      for (int64_t np = 0; np < BN / 16; ++np) {
        auto bq = f->ldmatrix(e.add(kS, e.i32(np * 16 * RB + kk * 32)), false);
        S[2 * np] = f->mma(a, bq[0], bq[1], S[2 * np]);
        S[2 * np + 1] = f->mma(a, bq[2], bq[3], S[2 * np + 1]);
      }
    }

    // Scale to log2 units and mask (ragged tail; causal, window and padding
    // from positions; with `useDocs`, documents too, in one range per row).
    std::string key0 = e.add(e.add("%k0", e.mul(j, e.i32(BN))),
                             e.mul(t4, e.i32(2)));
    auto maskScores = [&](bool useDocs) {
      std::vector<std::array<std::string, 4>> M = S;
      const bool needPos = useDocs || causal || c.window.any();
      for (int64_t n = 0; n < nS; ++n) {
        for (int col = 0; col < 2; ++col) {
          std::string key = e.add(key0, e.i32(n * 8 + col));
          std::string ok = e.cmp("slt", key, kEnd);
          std::string kp =
              needPos ? maskPos(key, "%kv_owner", "%kv_len", /*isKey=*/true)
                      : "";
          for (int r = 0; r < 2; ++r) {
            std::string vis = ok;
            if (useDocs) {
              // Document, causal mask and window in one range.
              vis = andI1(e, vis, documentAdmits(e, doc[r], kp));
            } else {
              vis = maskVisible(e, c.mask, c.window, ok, qPos[r], kp);
            }
            std::string &s = M[n][2 * r + col];
            s = e.select(vis, e.fmul(s, "%scale_log2"), e.negInf(), "f32");
          }
        }
      }
      return M;
    };
    if (!docs) {
      S = maskScores(/*useDocs=*/false);
    } else {
      // A tile that lies inside the one document of every row of the CTA
      // needs no document test (CTA-uniform branch): the row of the first
      // position has the document that ends last, the row of the last
      // position the one that starts first (documentBounds is monotone).
      std::string kFirst = firstKey(j);
      std::string kLast = e.minu(e.add(kFirst, e.i32(BN - 1)), lastK);
      std::string inside = andI1(
          e,
          e.cmp("sle", lastRowDoc.first,
                pos(kFirst, "%kv_owner", "%kv_len")),
          e.cmp("sge", firstRowDoc.last, pos(kLast, "%kv_owner", "%kv_len")));
      std::string masked = e.newName();
      std::string resTypes, thenYield, elseYield;
      for (int64_t n = 0; n < nS; ++n)
        for (int i = 0; i < 4; ++i)
          resTypes += std::string(resTypes.empty() ? "" : ", ") + "f32";
      auto yieldOf = [&](const std::vector<std::array<std::string, 4>> &M) {
        std::string y;
        for (int64_t n = 0; n < nS; ++n)
          for (int i = 0; i < 4; ++i)
            y += (y.empty() ? "" : ", ") + M[n][i];
        return "scf.yield " + y + " : " + resTypes;
      };
      e.open(masked + ":" + std::to_string(nS * 4) + " = scf.if " + inside +
             " -> (" + resTypes + ") {");
      e.line(yieldOf(maskScores(/*useDocs=*/false)));
      e.reopen("} else {");
      e.line(yieldOf(maskScores(/*useDocs=*/true)));
      e.close();
      for (int64_t n = 0; n < nS; ++n)
        for (int i = 0; i < 4; ++i)
          S[n][i] = masked + "#" + std::to_string(n * 4 + i);
    }

    OnlineSoftmaxStep sm = emitOnlineSoftmaxStep(e, *f, S, names, nO * 4);
    const auto &mNew = sm.mNew, &alpha = sm.alpha, &lNew = sm.lNew;
    std::vector<std::array<std::string, 4>> O(nO);
    for (int64_t n = 0; n < nO; ++n)
      for (int i = 0; i < 4; ++i)
        O[n][i] = e.fmul(names[n * 4 + i], alpha[i / 2]);

    // O += P V.
    for (int64_t kk = 0; kk < BN / 16; ++kk) {
      std::array<std::string, 4> a = {
          f->pack(S[2 * kk][0], S[2 * kk][1]), f->pack(S[2 * kk][2], S[2 * kk][3]),
          f->pack(S[2 * kk + 1][0], S[2 * kk + 1][1]),
          f->pack(S[2 * kk + 1][2], S[2 * kk + 1][3])};
      for (int64_t dp = 0; dp < Dp / 16; ++dp) {
        auto bv = f->ldmatrix(e.add(vS, e.i32(kk * 16 * RB + dp * 32)),
                           /*trans=*/true);
        O[2 * dp] = f->mma(a, bv[0], bv[1], O[2 * dp]);
        O[2 * dp + 1] = f->mma(a, bv[2], bv[3], O[2 * dp + 1]);
      }
    }
    // Every warp is done with this buffer before it is refilled.
    e.line("gpu.barrier");
    std::string yield;
    for (int64_t n = 0; n < nO; ++n)
      for (int i = 0; i < 4; ++i)
        yield += O[n][i] + ", ";
    yield += mNew[0] + ", " + mNew[1] + ", " + lNew[0] + ", " + lNew[1];
    e.line("scf.yield " + yield + " : " + types);
  }
  e.close();
  e.line("nvvm.cp.async.wait.group 0");

  auto res = [&](int64_t i) { return loop + "#" + std::to_string(i); };
  AttentionRows out{{rows[0], rows[1]}, qEnd, lastQ, plRow0, pog, plg, t4};
  emitAttentionEpilogue(e, *f, c.epilogue, D, res, out, Dp);
  e.line("gpu.return");

  return "  gpu.func @" + c.kernelName() +
         "(%q: !llvm.ptr, %k: !llvm.ptr, %v: !llvm.ptr, %po: !llvm.ptr, "
         "%pl: !llvm.ptr, %heads: i32, %kv_heads: i32, %q_len: i32, "
         "%kv_len: i32, %p_len: i32, %q0: i32, %qn: i32, %k0: i32, %kn: i32, "
         "%q_owner: i32, %kv_owner: i32, %ring: i32, %scale_log2: f32" +
         (docs ? ", %cu_seqlens: !llvm.ptr" : "") +
         ") kernel attributes {known_block_size = array<i32: " +
         std::to_string(T) +
         ", 1, 1>, nvvm.minctasm = 1 : i32, nvvm.maxnreg = " +
         std::to_string(TargetInfo::kMaxRegisters) +
         " : i32} {\n" + e.str() + "  }\n";
}

std::string mlir::ring::gpu::writeAttentionKernel(
    const AttentionKernelConfig &config) {
  return AttentionWriter(config).run();
}
