//===- AttentionKernel.cpp - blockwise flash attention on the CPU -*- C++ -*-===//
//
// This file implements the CPU kernel of ring.block_attention: a blockwise
// flash-attention kernel in scf + vector.
//
// Structure, for every batch b and key/value head hk:
//   1. K rows [k0, k0+kn) are widened to f32 and transposed into
//      Kt[KNP/16][D][16] (KNP = kn rounded up to the key tile, 16; padded
//      rows repeat the last row and are masked). V is read in place when it
//      is already f32 and kn is a multiple of the key tile; otherwise its
//      rows are widened into Vw[KNP][D]. Every query head of the GQA group of
//      hk then reuses them.
//   2. Query rows are processed in blocks of QB = 16 tiles of `queryTile`
//      (TQ) rows and keys in blocks of KB rows (Kt and V of one key block are
//      ~128 KiB, so they stay in L2 while every query tile of the block
//      walks them; without the blocking every tile streamed all of K and V
//      from memory). Each query tile of the block (the last tile is clamped
//      to valid rows and only valid rows are written) has Q widened and
//      pre-scaled into its TQ rows of Qs[QB][D], and its softmax state
//      (M[QB], L[QB][16], Acc[QB][D]) lives in scratch between key blocks.
//      For every key block, every query tile loads its state and, for every
//      key tile of 16 keys:
//      * unless every key of the tile is masked for every row of the query
//        tile (causal; then the tile is skipped),
//      * scores S[i][0:16] = Σ_d Qs[i][d]·Kt[j0/16][d][0:16], a
//        register-blocked TQ × vector<16xf32> micro-kernel: TQ·2 ymm
//        accumulators live across the D loop, one K load serves every row,
//      * the causal / sliding-window / padding mask from the global
//        positions (key kp visible to query qp iff qp − hi <= kp <= qp − lo,
//        Visibility.h; with a window, key tiles wholly before every
//        query's window are skipped too),
//      * with packed documents (the `docs` operand, cu_seqlens) the
//        visible key range [qp − hi, qp − lo] of each query row is also
//        cut to its document's positions (qdoc: a binary search per row
//        and call), so the same two compares mask it and the same tile
//        skip drops key tiles outside every row's document,
//      * the online softmax in fp32: m' = max(m, max S), p = e^(S−m'),
//        α = e^(m−m') for all rows at once as one vector exp, and the row
//        sums kept as vector<16> partial sums (l' = α·l + p, reduced once
//        at the end instead of once per tile); m' = −inf is treated as 0 so
//        that a row masked so far never produces NaN,
//      * Acc[i][:] = α·Acc[i][:] + Σ_j p_j·V[j][:], a TQ × `width` micro-kernel
//        per head_dim chunk: the accumulators stay in registers across the
//        16 keys and each p_j is one broadcast load from the P tile (a
//        load-port µop on x86, no shuffle).
//   3. Rows write O = Acc/l and LSE = m + log l, or O = 0, LSE = −inf when
//      every key was masked (l = 0). The accumulating form
//      (ring.block_attention_accumulate) instead merges that row into the
//      running accumulator row q0 + i with the online-softmax rule of
//      ring.merge (emitMergeWeights, shared with the merge kernel), or
//      with `first` writes it there without reading the accumulator.
// exp and log are expanded later into polynomial approximations that work
// on vectors (upstream populateMathPolynomialApproximationPatterns).
//
// Row lanes (query tiles of 16 rows, the AVX-512 variants): the tile's
// scores are kept transposed, St[j] = the scores of key j for the 16 rows
// as one vector<16xf32>, computed from Q transposed per tile
// (QsT[tile][d][row], one vector load per d) and a broadcast of Kt[.][d][j]
// per key. Then everything of the online softmax is lane-wise over rows:
// the tile max is 15 vmaxps instead of a horizontal reduction per row, m,
// l and α are one vector each (no per-row scalars, no spills), and the
// mask is one compare of key j's position with the rows' bounds. Scores,
// m and the exponentials are in log2 units (Q carries scale·log2 e, or
// the bf16 scores are multiplied by it), 2^x is
// a short polynomial with 2^n applied by vscalefps on AVX-512 (otherwise
// built in the exponent bits; emitExp2), and m only moves when a tile's max exceeds it by more than kStaleMax,
// so most tiles skip the rescale of the accumulators. P is stored key-major
// for the P·V micro-kernel (bf16: pairs of keys per row).
//
// bf16 dot products (the avx512bf16 variant, CpuVariants.h; bf16 inputs,
// even D): K is not widened but packed as bf16 pairs, Kp[KNP/16][D/2][16]
// of i32 (lane j holds K[j][2e], K[j][2e+1]), Q rows are kept unscaled as
// their pairs Qp[QB][D/2], and the scores are S_ii = scale · Σ_e
// dot(Qp[ii][e] broadcast, Kp[tile][e]): one x86vector.avx512.dot
// (vdpbf16ps: 32 bf16 products, fp32 accumulation) does the work of two
// FMAs, and the products of bf16 values are exact in fp32. With head_dim
// chunks of 4 or more lanes P·V is dot products too: V is packed by key
// pairs, Vp[KNP/2][D] of i32 (column c holds V[2i][c], V[2i+1][c]), each
// row's P tile is rounded to bf16 pairs (vcvtneps2bf16; the row sums l
// stay the fp32 sums of P, as FlashAttention does on GPUs) and every
// Acc[ii][d:d+width] += dot(P pair broadcast, Vp[pair][d:d+width]).
//
// With row lanes, bf16 dot products and D % 16 == 0 (accLanes), O is kept
// transposed too, Acc[tile][d][row], and the P·V of a key block runs after
// the softmaxes of all its key tiles (emitDeferredValueUpdate): each tile
// leaves its P pairs (one vector over the rows per key pair), α and
// whether some row's max moved in small per-block buffers; then for every
// chunk of 16 columns the 16 accumulators are loaded once, get
// dot(P pair, broadcast of Vp[pair][d]) for every key pair of every tile
// (rescaled by a tile's α only where its max moved), and are stored once.
// That loop has the S loop's shape (16 accumulators, one vector load and
// 16 vdpbf16ps with a {1to16} memory broadcast per step), and a tile's
// softmax overlaps the next tile's S loop, which does not depend on it.
// The rows are transposed back 16 × 16 in registers when they are written.
//
// With row lanes, a key tile that every row of the query tile sees whole
// (kposRange: the tile's least and greatest key position against the rows'
// bounds) runs a copy of the key-tile code without the mask, so under a
// causal mask only the diagonal tiles pay for it; and K and Q are packed
// into Kp/Kt and QsT by 16 × 16 in-register transposes.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/AttentionKernel.h"
#include "codegen/cpu/BlockKernels.h"
#include "codegen/cpu/CpuVariants.h"
#include "dialect/Visibility.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

namespace {

/// Query tiles per query block: the block's rows share each key block while
/// it is in cache.
constexpr int64_t kQueryTilesPerBlock = 16;
/// Bytes of f32 K plus V per key block (Kt and V of KB keys: 8·KB·D).
constexpr int64_t kKeyBlockBytes = 128 * 1024;
/// log2(e) and ln(2): row lanes keep scores and maxima in log2 units.
constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
/// Row lanes: the running max of a row only moves when a tile's max
/// exceeds it by more than this (log2 units, so P <= 2^8): the rescale of
/// the tile's accumulators is then skipped for most tiles, and the result
/// is the same (every term carries the same stale max).
constexpr double kStaleMax = 8.0;

/// The compile-time shape of one block_attention variant.
struct AttentionVariant {
  MemRefType q, kv;
  int64_t q0, qn, k0, kn;
  bool causal;
  /// Sliding window sides (−1 unlimited); both −1 without a window.
  int64_t windowLeft = -1, windowRight = -1;
  Balance layout;
  int64_t ringSize;
  /// seq_len: the layout has padding rows (masked, and zeroed in Kt/Vw).
  std::optional<uint64_t> seqLen;
  /// Packed documents: the kernel's last argument is cu_seqlens.
  bool documents = false;
  bool windowed() const { return windowLeft != -1 || windowRight != -1; }
  /// Masks from global positions (causal, window, padded parts or
  /// documents), not only the rows past kn.
  bool positional() const {
    return causal || windowed() || seqLen || documents;
  }
  double scale;
  int64_t queryTile;
  /// ring.block_attention_accumulate: merge into the accumulator (row
  /// q0 + i) instead of writing the partial (row i); `first`: without
  /// reading it.
  bool accumulate = false, first = false;
  /// Scores by bf16 dot products (see the file comment).
  bool bf16Dot = false;
  /// The variant has AVX-512 (vscalefps for emitExp2).
  bool avx512 = false;
};

/// Builds the kernel body; see the file comment.
class AttentionKernelEmitter {
public:
  AttentionKernelEmitter(KernelBuilder &b, const AttentionVariant &var,
                         ValueRange args, func::FuncOp progress)
      : b(b), var(var), q(args[0]), k(args[1]), v(args[2]), po(args[3]),
        pl(args[4]), progress(progress) {
    batch = var.q.getDimSize(0);
    heads = var.q.getDimSize(1);
    headDim = var.q.getDimSize(3);
    kvHeads = var.kv.getDimSize(1);
    group = heads / kvHeads;
    tq = var.queryTile;
    knPadded = static_cast<int64_t>(llvm::divideCeil(var.kn, kKeyTile)) *
               kKeyTile;
    width = vectorWidthFor(headDim);
    queryBlock = std::min<int64_t>(kQueryTilesPerBlock * tq,
                                   llvm::divideCeil(var.qn, tq) * tq);
    keyBlock = std::min(
        knPadded,
        std::max(kKeyTile, kKeyBlockBytes / (8 * headDim) / kKeyTile *
                               kKeyTile));
    needMask = var.positional() || var.kn % kKeyTile != 0;
    // Key kp is visible to query qp iff qp − hi <= kp <= qp − lo
    // (Visibility.h; clamped to the sequence so that nothing overflows;
    // padding rows have positions that fail the lower side).
    std::tie(diffLo, diffHi) = clampedDiffBounds(
        var.causal, var.windowLeft, var.windowRight, span());
    directV = cast<MemRefType>(v.getType()).getElementType().isF32() &&
              var.kn % kKeyTile == 0 && !var.seqLen;
    // (x86vector.avx512.dot takes 4, 8 or 16 f32 lanes.)
    // Padded parts: V goes through Vw, whose padding rows are zeroed.
    pvDot = var.bf16Dot && width >= 4 && !var.seqLen;
    rowLanes = tq == kKeyTile;
    // (Chunks of 16 columns: the rows are transposed back 16 × 16 at the
    // end.)
    accLanes = pvDot && rowLanes && headDim % kKeyTile == 0;
    qOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[5]);
    kvOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[6]);
    if (var.documents)
      cu = args[7];
  }

  void emit();

private:
  void emitKeyPositions();
  void emitQueryDocuments();
  void emitWidenKV(Value bi, Value hk);
  void emitQueryBlock(Value bi, Value hk, Value h, Value qb);
  SmallVector<Value> tileRows(Value qt);
  SmallVector<Value> tilePositions(ArrayRef<Value> rows);
  SmallVector<Value> tileLowerBounds(ArrayRef<Value> rows,
                                     ArrayRef<Value> qpos);
  /// qdoc[row − q0][side] (side 0: the document's first position, 1: its
  /// last).
  Value documentBound(Value row, int64_t side) {
    Value i = arith::SubIOp::create(b, row, b.index(var.q0));
    return memref::LoadOp::create(b, qdoc, ValueRange{i, b.index(side)});
  }
  void emitInitTile(Value bi, Value h, Value slot, Value qt);
  void emitTileKeyBlock(Value bi, Value hk, Value slot, Value qt, Value kb,
                        Value kbEnd);
  SmallVector<Value> emitKeyTile(Value bi, Value hk, Value slot, Value kt0,
                                 ArrayRef<Value> qpos, ArrayRef<Value> qlo,
                                 ValueRange state);
  SmallVector<Value> emitScores(Value slot, Value kt0);
  SmallVector<Value> emitAlphas(ValueRange mOld, ArrayRef<Value> mSafe);
  SmallVector<Value> emitKeyTileLanes(Value bi, Value hk, Value slot, Value kt0,
                                      Value qposLanes, Value qloLanes,
                                      ValueRange state, bool masked);
  SmallVector<Value> emitScoresLanes(Value slot, Value kt0);
  Value emitExp2(Value x, bool finite = false);
  void emitValueUpdate(Value bi, Value hk, Value slot, Value kt0,
                       function_ref<Value(int64_t, Value)> rescale);
  void emitDeferredValueUpdate(Value slot, Value count);
  void emitAccRows(Value slot);
  void emitWriteRows(Value bi, Value h, Value slot, Value qt);

  /// Whether 16 × 16 blocks of Kp/Kt and QsT can be written by in-register
  /// transposes (emitTransposedStores): row lanes, and the element columns
  /// (bf16: pairs) a multiple of 16.
  bool transposedPacking() const {
    return rowLanes && (var.bf16Dot ? headDim % 32 : headDim % 16) == 0;
  }
  /// dst[prefix..., c0 + i, 0:16] = column c0 + i of the 16 rows
  /// loadRow(0..15) (vector<16> each, over columns c0..c0+15), by one
  /// transposeSquare: 16 vector loads, 64 shuffles and 16 vector stores
  /// instead of 256 scalar stores (the packing was a few per cent of the
  /// kernel at L = 1k).
  void emitTransposedStores(Value dst, ValueRange prefix, Value c0,
                            function_ref<Value(int64_t)> loadRow) {
    SmallVector<Value> rowVecs;
    for (int64_t i = 0; i < kKeyTile; ++i)
      rowVecs.push_back(loadRow(i));
    SmallVector<Value> cols = transposeSquare(b, rowVecs);
    for (int64_t i = 0; i < kKeyTile; ++i) {
      SmallVector<Value> idx(prefix);
      idx.push_back(arith::AddIOp::create(b, c0, b.index(i)));
      idx.push_back(b.index(0));
      vector::StoreOp::create(b, cols[i], dst, idx);
    }
  }

  /// Scratch row `slot + ii` of the query block.
  Value slotRow(Value slot, int64_t ii) {
    return arith::AddIOp::create(b, slot, b.index(ii));
  }

  /// The f32 vector<width> of value row `j` (relative to k0) at column `d`:
  /// from V itself or from its widened copy Vw.
  Value loadValueRow(Value bi, Value hk, Value j, Value d) {
    auto rowType = VectorType::get({width}, b.getF32Type());
    if (!directV)
      return vector::LoadOp::create(b, rowType, vw, ValueRange{j, d});
    Value row = arith::AddIOp::create(b, j, b.index(var.k0));
    return vector::LoadOp::create(b, rowType, v, ValueRange{bi, hk, row, d});
  }

  /// The `width` bf16 elements of `memref` at `indices` (last: an even
  /// column) as width/2 i32 pairs, the lower column in the low half.
  Value loadPairs(Value memref, ValueRange indices) {
    Value raw = vector::LoadOp::create(
        b, VectorType::get({width}, b.getBF16Type()), memref, indices);
    return vector::BitCastOp::create(
        b, VectorType::get({width / 2}, b.getI32Type()), raw);
  }

  /// x > y ? x : y, which is one vmaxps (maxnumf needs NaN fix-ups even
  /// with nnan once lowered: the operands here are never NaN).
  Value laneMax(Value x, Value y) {
    return arith::SelectOp::create(
        b, arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, y), x, y);
  }

  Value f32Memref(ArrayRef<int64_t> shape, bool onStack) {
    auto type = MemRefType::get(shape, b.getF32Type());
    if (onStack)
      return memref::AllocaOp::create(b, type);
    return memref::AllocOp::create(b, type);
  }

  KernelBuilder &b;
  const AttentionVariant &var;
  Value q, k, v, po, pl, qOwner, kvOwner, cu;
  /// ringrt_cg_progress, called once per key block of a query block.
  func::FuncOp progress;
  int64_t batch, heads, headDim, kvHeads, group, tq, knPadded, width;
  /// Rows of a query block and keys of a key block.
  int64_t queryBlock, keyBlock;
  bool needMask, directV, pvDot = false;
  /// Row lanes (see the file comment): tq == 16, scores as key vectors
  /// over the tile's rows.
  bool rowLanes = false;
  /// O transposed (row lanes with bf16 P·V dot products, D % 16 == 0):
  /// Acc[tile][d][row], one vector over the 16 rows per column; see
  /// emitDeferredValueUpdate.
  bool accLanes = false;
  int64_t diffLo = 0, diffHi = 0;
  /// The positions' span: local rows × ring size (>= the sequence length).
  int64_t span() const { return var.q.getDimSize(2) * var.ringSize; }
  // Scratch buffers (qdoc: the first and last key position of each query
  // row's document, with packed documents).
  Value kt, vw, vp, kpos, qdoc, qs, ps, acc, ms, ls;
  /// Row lanes with a mask: the least and greatest kpos of each key tile,
  /// kposRange[tile][0 / 1] (the tile skip and the unmasked-tile test).
  Value kposRange;
  /// accLanes: the tile's rows of Acc transposed back, [16][D], for
  /// emitWriteRows; and per key tile of a key block whose P·V is deferred
  /// (emitDeferredValueUpdate): its P pairs [tiles][8][16], α [tiles][16],
  /// whether some row's max moved [tiles] and its first key [tiles].
  Value accRows, pBlock, alphaBlock, movedBlock, keyTileBlock;
  /// Row lanes: the tile's α per row, broadcast from memory by the P·V
  /// rescale.
  Value alphas;
};

void AttentionKernelEmitter::emit() {
  // Kt is tile-major, [KNP/16][D][16], so that the D vectors of one key
  // tile are contiguous (8 KiB at D = 128) instead of KNP floats apart.
  // (The scratch buffers become the kernel's trailing arguments in this
  // order.)
  if (var.bf16Dot)
    kt = memref::AllocOp::create(
        b, MemRefType::get({knPadded / kKeyTile, headDim / 2, kKeyTile},
                           b.getI32Type()));
  else
    kt = f32Memref({knPadded / kKeyTile, headDim, kKeyTile},
                   /*onStack=*/false);
  if (pvDot)
    vp = memref::AllocOp::create(
        b, MemRefType::get({knPadded / 2, headDim}, b.getI32Type()));
  else if (!directV)
    vw = f32Memref({knPadded, headDim}, /*onStack=*/false);
  if (rowLanes) {
    // Q transposed per tile: QsT[QB/16][D (bf16: D/2 pairs)][16 rows].
    if (var.bf16Dot)
      qs = memref::AllocOp::create(
          b,
          MemRefType::get({queryBlock / tq, headDim / 2, tq}, b.getI32Type()));
    else
      qs = f32Memref({queryBlock / tq, headDim, tq}, /*onStack=*/false);
  } else if (var.bf16Dot) {
    qs = memref::AllocOp::create(
        b, MemRefType::get({queryBlock, headDim / 2}, b.getI32Type()));
  } else {
    qs = f32Memref({queryBlock, headDim}, /*onStack=*/false);
  }
  if (accLanes) {
    acc = f32Memref({queryBlock / tq, headDim, tq}, /*onStack=*/false);
    accRows = f32Memref({tq, headDim}, /*onStack=*/false);
    int64_t tiles = keyBlock / kKeyTile;
    pBlock = memref::AllocOp::create(
        b, MemRefType::get({tiles, kKeyTile / 2, tq}, b.getI32Type()));
    alphaBlock = f32Memref({tiles, tq}, /*onStack=*/false);
    movedBlock =
        memref::AllocOp::create(b, MemRefType::get({tiles}, b.getI32Type()));
    keyTileBlock =
        memref::AllocOp::create(b, MemRefType::get({tiles}, b.getI64Type()));
  } else {
    acc = f32Memref({queryBlock, headDim}, /*onStack=*/false);
  }
  ms = f32Memref({queryBlock}, /*onStack=*/true);
  // Row lanes: P[key (pair)][row]; otherwise P[row][key (pair)].
  if (rowLanes) {
    ls = f32Memref({queryBlock}, /*onStack=*/false);
    alphas = f32Memref({tq}, /*onStack=*/true);
    if (pvDot)
      ps = memref::AllocaOp::create(
          b, MemRefType::get({kKeyTile / 2, tq}, b.getI32Type()));
    else
      ps = f32Memref({kKeyTile, tq}, /*onStack=*/true);
  } else {
    ls = f32Memref({queryBlock, kKeyTile}, /*onStack=*/false);
    if (pvDot)
      ps = memref::AllocaOp::create(
          b, MemRefType::get({tq, kKeyTile / 2}, b.getI32Type()));
    else
      ps = f32Memref({tq, kKeyTile}, /*onStack=*/true);
  }
  if (needMask) {
    kpos = memref::AllocOp::create(
        b, MemRefType::get({knPadded}, b.getI64Type()));
    emitKeyPositions();
    if (rowLanes) {
      kposRange = memref::AllocOp::create(
          b, MemRefType::get({knPadded / kKeyTile, 2}, b.getI64Type()));
      b.forRange(0, knPadded / kKeyTile, 1, [&](Value t) {
        Value kp = vector::LoadOp::create(
            b, VectorType::get({kKeyTile}, b.getI64Type()), kpos,
            ValueRange{arith::MulIOp::create(b, t, b.index(kKeyTile))});
        const vector::CombiningKind kinds[] = {vector::CombiningKind::MINSI,
                                               vector::CombiningKind::MAXSI};
        for (int64_t side = 0; side < 2; ++side)
          memref::StoreOp::create(
              b, vector::ReductionOp::create(b, kinds[side], kp), kposRange,
              ValueRange{t, b.index(side)});
      });
    }
  }
  if (var.documents) {
    qdoc = memref::AllocOp::create(
        b, MemRefType::get({var.qn, 2}, b.getI64Type()));
    emitQueryDocuments();
  }
  b.forRange(0, batch, 1, [&](Value bi) {
    b.forRange(0, kvHeads, 1, [&](Value hk) {
      emitWidenKV(bi, hk);
      b.forRange(0, group, 1, [&](Value g) {
        Value h = arith::AddIOp::create(
            b, arith::MulIOp::create(b, hk, b.index(group)), g);
        b.forRange(0, var.qn, queryBlock,
                   [&](Value qb) { emitQueryBlock(bi, hk, h, qb); });
      });
    });
  });
  for (Value buffer : {kt, qs, acc, ls})
    memref::DeallocOp::create(b, buffer);
  if (vw)
    memref::DeallocOp::create(b, vw);
  if (vp)
    memref::DeallocOp::create(b, vp);
  if (accLanes)
    for (Value buffer : {accRows, pBlock, alphaBlock, movedBlock, keyTileBlock})
      memref::DeallocOp::create(b, buffer);
  if (kpos)
    memref::DeallocOp::create(b, kpos);
  if (kposRange)
    memref::DeallocOp::create(b, kposRange);
  if (qdoc)
    memref::DeallocOp::create(b, qdoc);
}

/// qdoc[i] = (first, last) key position of the document of query row
/// q0 + i (documentBounds: a binary search of cu_seqlens, once per row and
/// call; every head and key tile reuses it).
void AttentionKernelEmitter::emitQueryDocuments() {
  b.forRange(0, var.qn, 1, [&](Value i) {
    Value row = arith::IndexCastOp::create(
        b, b.getI64Type(), arith::AddIOp::create(b, i, b.index(var.q0)));
    Value pos = maskPosition(b, var.layout, var.q.getDimSize(2), var.ringSize,
                             var.seqLen, qOwner, row, /*isKey=*/false);
    auto [first, last] = documentBounds(b, cu, pos);
    memref::StoreOp::create(b, first, qdoc, ValueRange{i, b.index(0)});
    memref::StoreOp::create(b, last, qdoc, ValueRange{i, b.index(1)});
  });
}

/// kpos[j] = the mask position of key row k0 + j (causal, window or
/// padded parts: maskPosition), 0 (no mask), or INT64_MAX for rows past kn,
/// so that `kpos[j] <= qpos` (and with a window `kpos[j] >= qlo`) is the
/// visibility test in every case.
void AttentionKernelEmitter::emitKeyPositions() {
  b.forRange(0, knPadded, 1, [&](Value j) {
    Value j64 = arith::IndexCastOp::create(b, b.getI64Type(), j);
    Value pos = b.i64(0);
    if (var.positional())
      pos = maskPosition(b, var.layout, var.kv.getDimSize(2), var.ringSize,
                         var.seqLen, kvOwner,
                         arith::AddIOp::create(b, j64, b.i64(var.k0)),
                         /*isKey=*/true);
    Value real = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j64,
                                       b.i64(var.kn));
    Value value = arith::SelectOp::create(
        b, real, pos, b.i64(std::numeric_limits<int64_t>::max()));
    memref::StoreOp::create(b, value, kpos, ValueRange{j});
  });
}

void AttentionKernelEmitter::emitWidenKV(Value bi, Value hk) {
  if (pvDot) {
    // Vp[i][d:d+width] = V rows 2i and 2i + 1 interleaved column by column
    // (padding rows repeat the last real row).
    auto rowType = VectorType::get({width}, b.getBF16Type());
    b.forRange(0, knPadded / 2, 1, [&](Value i) {
      auto rowOf = [&](int64_t odd) -> Value {
        Value j = arith::AddIOp::create(
            b, arith::MulIOp::create(b, i, b.index(2)), b.index(odd));
        return arith::AddIOp::create(
            b, arith::MinSIOp::create(b, j, b.index(var.kn - 1)),
            b.index(var.k0));
      };
      Value r0 = rowOf(0), r1 = rowOf(1);
      b.forRange(0, headDim, width, [&](Value d) {
        Value v0 = vector::LoadOp::create(b, rowType, v,
                                          ValueRange{bi, hk, r0, d});
        Value v1 = vector::LoadOp::create(b, rowType, v,
                                          ValueRange{bi, hk, r1, d});
        Value pairs = vector::BitCastOp::create(
            b, VectorType::get({width}, b.getI32Type()),
            vector::InterleaveOp::create(b, v0, v1));
        vector::StoreOp::create(b, pairs, vp, ValueRange{i, d});
      });
    });
  }
  bool packK = true;
  if (transposedPacking() && (var.bf16Dot || !var.seqLen)) {
    // Kp / Kt by 16 × 16 transposes (padding keys need no zeroing: with
    // bf16 dot products their scores are replaced by −inf, never
    // multiplied; f32 padded parts keep the per-row path below, which
    // zeroes them).
    packK = false;
    int64_t columns = var.bf16Dot ? headDim / 2 : headDim;
    b.forRange(0, knPadded / kKeyTile, 1, [&](Value tile) {
      Value j0 = arith::MulIOp::create(b, tile, b.index(kKeyTile));
      b.forRange(0, columns, kKeyTile, [&](Value c0) {
        emitTransposedStores(kt, ValueRange{tile}, c0, [&](int64_t i) -> Value {
          Value row = arith::AddIOp::create(
              b,
              arith::MinSIOp::create(
                  b, arith::AddIOp::create(b, j0, b.index(i)),
                  b.index(var.kn - 1)),
              b.index(var.k0));
          if (!var.bf16Dot)
            return b.loadF32(k, {bi, hk, row, c0}, kKeyTile);
          Value raw = vector::LoadOp::create(
              b, VectorType::get({2 * kKeyTile}, b.getBF16Type()), k,
              ValueRange{bi, hk, row,
                         arith::MulIOp::create(b, c0, b.index(2))});
          return vector::BitCastOp::create(
                     b, VectorType::get({kKeyTile}, b.getI32Type()), raw)
              .getResult();
        });
      });
    });
  }
  if (!packK && !vw)
    return;
  b.forRange(0, knPadded, 1, [&](Value j) {
    // Padding rows repeat the last real row: finite values, masked later.
    Value row = arith::AddIOp::create(
        b, arith::MinSIOp::create(b, j, b.index(var.kn - 1)),
        b.index(var.k0));
    Value tile = arith::DivUIOp::create(b, j, b.index(kKeyTile));
    Value lane = arith::RemUIOp::create(b, j, b.index(kKeyTile));
    // Padding rows of the layout's parts hold whatever the caller left
    // there: zero them, so that a NaN there cannot reach P·V (0·NaN).
    Value pad;
    if (var.seqLen)
      pad = arith::CmpIOp::create(
          b, arith::CmpIPredicate::sge,
          memref::LoadOp::create(b, kpos, ValueRange{j}),
          b.i64(paddingKeyPosition(span())));
    auto clean = [&](Value x) -> Value {
      if (!pad)
        return x;
      return arith::SelectOp::create(b, pad, b.splat(width, b.f32(0.0)), x);
    };
    b.forRange(0, headDim, width, [&](Value d) {
      if (vw)
        vector::StoreOp::create(b, clean(b.loadF32(v, {bi, hk, row, d}, width)),
                                vw, ValueRange{j, d});
      if (!packK)
        return;
      if (var.bf16Dot) {
        // Kp[tile][d/2 + l][lane] = the pair K[row][d + 2l], K[row][d + 2l + 1].
        // (Padding keys need no zeroing: their scores are replaced by −inf,
        // never multiplied.)
        Value pairs = loadPairs(k, {bi, hk, row, d});
        Value e0 = arith::DivUIOp::create(b, d, b.index(2));
        for (int64_t l = 0; l < width / 2; ++l) {
          Value e = vector::ExtractOp::create(b, pairs, ArrayRef<int64_t>{l});
          memref::StoreOp::create(
              b, e, kt,
              ValueRange{tile, arith::AddIOp::create(b, e0, b.index(l)), lane});
        }
        return;
      }
      Value kvec = clean(b.loadF32(k, {bi, hk, row, d}, width));
      for (int64_t l = 0; l < width; ++l) {
        Value e = vector::ExtractOp::create(b, kvec, ArrayRef<int64_t>{l});
        Value dl = arith::AddIOp::create(b, d, b.index(l));
        memref::StoreOp::create(b, e, kt, ValueRange{tile, dl, lane});
      }
    });
  });
}

void AttentionKernelEmitter::emitQueryBlock(Value bi, Value hk, Value h,
                                            Value qb) {
  Value qbEnd = arith::MinSIOp::create(
      b, arith::AddIOp::create(b, qb, b.index(queryBlock)), b.index(var.qn));
  Value step = b.index(tq);
  auto forTiles = [&](function_ref<void(Value slot, Value qt)> body) {
    b.forRange(qb, qbEnd, step, [&](Value qt) {
      body(arith::SubIOp::create(b, qt, qb), qt);
    });
  };
  forTiles([&](Value slot, Value qt) { emitInitTile(bi, h, slot, qt); });
  b.forRange(0, knPadded, keyBlock, [&](Value kb) {
    Value kbEnd = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, kb, b.index(keyBlock)),
        b.index(knPadded));
    forTiles([&](Value slot, Value qt) {
      emitTileKeyBlock(bi, hk, slot, qt, kb, kbEnd);
    });
    // The ring shift of this stage is in flight: let MPI move it while we
    // compute (codegen_abi.h). One call per query block × key block is
    // 8·96·KB·D ≈ 6 MFLOP (tens of µs) of work apart.
    func::CallOp::create(b, progress, ValueRange{});
  });
  forTiles([&](Value slot, Value qt) { emitWriteRows(bi, h, slot, qt); });
}

/// The Q rows of the tile at local row `qt`, clamped to the last valid row.
SmallVector<Value> AttentionKernelEmitter::tileRows(Value qt) {
  SmallVector<Value> rows;
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value local = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, qt, b.index(ii)), b.index(var.qn - 1));
    rows.push_back(arith::AddIOp::create(b, local, b.index(var.q0)));
  }
  return rows;
}

/// The last visible key position (i64) of each of `rows`: pos − lo from
/// the layout (causal, window or padded parts; a padding row's sentinel
/// minus lo is below every key), capped by the last position of the row's
/// document with packed documents, or INT64_MAX − 1, which sees every real
/// key (rows past kn only).
SmallVector<Value>
AttentionKernelEmitter::tilePositions(ArrayRef<Value> rows) {
  SmallVector<Value> qpos;
  for (Value row : rows) {
    if (var.positional()) {
      Value pos = maskPosition(
          b, var.layout, var.q.getDimSize(2), var.ringSize, var.seqLen,
          qOwner, arith::IndexCastOp::create(b, b.getI64Type(), row),
          /*isKey=*/false);
      Value last = diffLo == 0 ? pos
                               : arith::SubIOp::create(b, pos, b.i64(diffLo))
                                     .getResult();
      if (var.documents)
        last = arith::MinSIOp::create(b, last, documentBound(row, 1));
      qpos.push_back(last);
    } else if (needMask) {
      qpos.push_back(b.i64(std::numeric_limits<int64_t>::max() - 1));
    }
  }
  return qpos;
}

/// With a window bounding how far back a query sees: the first visible key
/// position of each row, (pos − lo) − (hi − lo) = pos − hi; with packed
/// documents at least the first position of the row's document. Empty
/// otherwise. (`qpos` from tilePositions: with documents its cap is not
/// pos − lo, so the window side is recomputed from the position.)
SmallVector<Value>
AttentionKernelEmitter::tileLowerBounds(ArrayRef<Value> rows,
                                        ArrayRef<Value> qpos) {
  SmallVector<Value> qlo;
  if (var.windowLeft < 0 && !var.documents)
    return qlo;
  for (auto [row, hiPos] : llvm::zip(rows, qpos)) {
    Value first;
    if (var.windowLeft >= 0) {
      Value pos = hiPos;
      if (var.documents)
        pos = maskPosition(
            b, var.layout, var.q.getDimSize(2), var.ringSize, var.seqLen,
            qOwner, arith::IndexCastOp::create(b, b.getI64Type(), row),
            /*isKey=*/false);
      else
        pos = arith::AddIOp::create(b, pos, b.i64(diffLo)); // back to pos
      first = arith::SubIOp::create(b, pos, b.i64(diffHi));
    }
    if (var.documents) {
      Value docFirst = documentBound(row, 0);
      first = first ? arith::MaxSIOp::create(b, first, docFirst).getResult()
                    : docFirst;
    }
    qlo.push_back(first);
  }
  return qlo;
}

/// Qs = scale · Q (f32), Acc = 0, M = −inf, L = 0 for the tile's rows.
void AttentionKernelEmitter::emitInitTile(Value bi, Value h, Value slot,
                                          Value qt) {
  SmallVector<Value> rows = tileRows(qt);
  // Row lanes keep the scores in log2 units: e^x = 2^(x·log2 e).
  Value scale =
      b.splat(width, b.f32(rowLanes ? var.scale * kLog2E : var.scale));
  Value zero = b.splat(width, b.f32(0.0));
  Value qtile;
  if (rowLanes)
    qtile = arith::DivUIOp::create(b, slot, b.index(tq));
  if (accLanes)
    b.forRange(0, headDim, 1, [&](Value d) {
      vector::StoreOp::create(b, b.splat(tq, b.f32(0.0)), acc,
                              ValueRange{qtile, d, b.index(0)});
    });
  if (transposedPacking()) {
    // QsT[qtile][c0 + i][row] by 16 × 16 transposes (see the per-row path
    // below for what is stored).
    int64_t columns = var.bf16Dot ? headDim / 2 : headDim;
    Value scale16 = b.splat(kKeyTile, b.f32(var.scale * kLog2E));
    b.forRange(0, columns, kKeyTile, [&](Value c0) {
      emitTransposedStores(qs, ValueRange{qtile}, c0, [&](int64_t ii) -> Value {
        if (!var.bf16Dot)
          return arith::MulFOp::create(
                     b, b.loadF32(q, {bi, h, rows[ii], c0}, kKeyTile), scale16)
              .getResult();
        Value raw = vector::LoadOp::create(
            b, VectorType::get({2 * kKeyTile}, b.getBF16Type()), q,
            ValueRange{bi, h, rows[ii],
                       arith::MulIOp::create(b, c0, b.index(2))});
        return vector::BitCastOp::create(
                   b, VectorType::get({kKeyTile}, b.getI32Type()), raw)
            .getResult();
      });
    });
  }
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value r = slotRow(slot, ii);
    b.forRange(0, headDim, width, [&](Value d) {
      if (transposedPacking()) {
        // (QsT is written above.)
      } else if (rowLanes) {
        // QsT[qtile][d (pair)][ii]: unscaled bf16 pairs, or scaled f32.
        Value x = var.bf16Dot
                      ? loadPairs(q, {bi, h, rows[ii], d})
                      : arith::MulFOp::create(
                            b, b.loadF32(q, {bi, h, rows[ii], d}, width), scale)
                            .getResult();
        int64_t n = var.bf16Dot ? width / 2 : width;
        Value c0 = var.bf16Dot
                       ? arith::DivUIOp::create(b, d, b.index(2)).getResult()
                       : d;
        for (int64_t l = 0; l < n; ++l)
          memref::StoreOp::create(
              b, vector::ExtractOp::create(b, x, ArrayRef<int64_t>{l}), qs,
              ValueRange{qtile, arith::AddIOp::create(b, c0, b.index(l)),
                         b.index(ii)});
      } else if (var.bf16Dot) {
        // Unscaled pairs: the scale multiplies the scores (emitScores).
        vector::StoreOp::create(
            b, loadPairs(q, {bi, h, rows[ii], d}), qs,
            ValueRange{r, arith::DivUIOp::create(b, d, b.index(2))});
      } else {
        Value x = b.loadF32(q, {bi, h, rows[ii], d}, width);
        vector::StoreOp::create(b, arith::MulFOp::create(b, x, scale), qs,
                                ValueRange{r, d});
      }
      if (!accLanes)
        vector::StoreOp::create(b, zero, acc, ValueRange{r, d});
    });
    memref::StoreOp::create(b, b.negInf(), ms, ValueRange{r});
    if (rowLanes)
      memref::StoreOp::create(b, b.f32(0.0), ls, ValueRange{r});
    else
      vector::StoreOp::create(b, b.splat(kKeyTile, b.f32(0.0)), ls,
                              ValueRange{r, b.index(0)});
  }
}

/// The tile's online softmax over key tiles [kb, kbEnd): the state is
/// m_0..m_{tq-1} (f32) and the partial row sums l_0..l_{tq-1}
/// (vector<16xf32>, reduced in emitWriteRows), loaded from and stored back
/// to M and L around the key loop.
void AttentionKernelEmitter::emitTileKeyBlock(Value bi, Value hk, Value slot,
                                              Value qt, Value kb,
                                              Value kbEnd) {
  SmallVector<Value> rowsOfTile = tileRows(qt);
  SmallVector<Value> qpos = tilePositions(rowsOfTile);
  auto sumType = VectorType::get({kKeyTile}, b.getF32Type());
  SmallVector<Value> init;
  if (rowLanes) {
    // The state is m and l of the tq rows as two vectors (accLanes: and
    // the number of key tiles whose P·V is deferred; see
    // emitDeferredValueUpdate).
    init.push_back(vector::LoadOp::create(b, sumType, ms, ValueRange{slot}));
    init.push_back(vector::LoadOp::create(b, sumType, ls, ValueRange{slot}));
    if (accLanes)
      init.push_back(b.index(0));
  } else {
    for (int64_t ii = 0; ii < tq; ++ii)
      init.push_back(
          memref::LoadOp::create(b, ms, ValueRange{slotRow(slot, ii)}));
    for (int64_t ii = 0; ii < tq; ++ii)
      init.push_back(vector::LoadOp::create(
          b, sumType, ls, ValueRange{slotRow(slot, ii), b.index(0)}));
  }
  SmallVector<Value> qlo = tileLowerBounds(rowsOfTile, qpos);
  Value qmax, qmin;
  if (var.positional()) {
    qmax = qpos[0];
    for (int64_t ii = 1; ii < tq; ++ii)
      qmax = arith::MaxSIOp::create(b, qmax, qpos[ii]);
  }
  if (!qlo.empty()) {
    qmin = qlo[0];
    for (int64_t ii = 1; ii < tq; ++ii)
      qmin = arith::MinSIOp::create(b, qmin, qlo[ii]);
  }
  // Row lanes compare the key positions with the rows' bounds as vectors.
  Value qposLanes, qloLanes;
  if (rowLanes && needMask) {
    auto posType = VectorType::get({tq}, b.getI64Type());
    qposLanes = vector::FromElementsOp::create(b, posType, qpos);
    if (!qlo.empty())
      qloLanes = vector::FromElementsOp::create(b, posType, qlo);
  }
  if (rowLanes && needMask) {
    // A key tile every row of the tile sees whole (its greatest key
    // position at most every row's last visible one, and with a window or
    // documents its least at least every row's first) runs without the
    // mask: under a causal mask that is every tile but the diagonal's
    // (the mask is 5 instructions per key, a fifth of the softmax).
    // (kposRange: padding keys hold positions no row sees, so a tile with
    // one is never whole.)
    Value qposMin = qpos[0], qloMax = qlo.empty() ? Value() : qlo[0];
    for (int64_t ii = 1; ii < tq; ++ii) {
      qposMin = arith::MinSIOp::create(b, qposMin, qpos[ii]);
      if (qloMax)
        qloMax = arith::MaxSIOp::create(b, qloMax, qlo[ii]);
    }
    SmallVector<Value> state = b.forRangeIter(
        kb, kbEnd, b.index(kKeyTile), init,
        [&](Value kt0, ValueRange st) -> SmallVector<Value> {
          Value tile = arith::DivUIOp::create(b, kt0, b.index(kKeyTile));
          Value kmin =
              memref::LoadOp::create(b, kposRange, ValueRange{tile, b.index(0)});
          Value kmax =
              memref::LoadOp::create(b, kposRange, ValueRange{tile, b.index(1)});
          Value whole = arith::CmpIOp::create(b, arith::CmpIPredicate::sle,
                                              kmax, qposMin);
          if (qloMax)
            whole = arith::AndIOp::create(
                b, whole,
                arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kmin,
                                      qloMax));
          auto tileCode = [&](bool masked) {
            return [&, masked] {
              return emitKeyTileLanes(bi, hk, slot, kt0, qposLanes, qloLanes,
                                      st, masked);
            };
          };
          auto partOrWhole = [&] {
            return b.ifElse(whole, tileCode(/*masked=*/false),
                            tileCode(/*masked=*/true));
          };
          if (!var.positional())
            return partOrWhole();
          // Skip the tile when its first key comes after every query's last
          // visible key, or (window, documents) its last real key before
          // every query's first visible key.
          Value skip = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt,
                                             kmin, qmax);
          if (qmin)
            skip = arith::OrIOp::create(
                b, skip,
                arith::CmpIOp::create(b, arith::CmpIPredicate::slt, kmax,
                                      qmin));
          return b.ifElse(
              skip, [&] { return SmallVector<Value>(st); }, partOrWhole);
        });
    if (accLanes)
      emitDeferredValueUpdate(slot, state[2]);
    vector::StoreOp::create(b, state[0], ms, ValueRange{slot});
    vector::StoreOp::create(b, state[1], ls, ValueRange{slot});
    return;
  }
  auto keyTile = [&](Value kt0, ValueRange st) {
    if (rowLanes)
      return emitKeyTileLanes(bi, hk, slot, kt0, qposLanes, qloLanes, st,
                              /*masked=*/false);
    return emitKeyTile(bi, hk, slot, kt0, qpos, qlo, st);
  };
  SmallVector<Value> state = b.forRangeIter(
      kb, kbEnd, b.index(kKeyTile), init,
      [&](Value kt0, ValueRange st) -> SmallVector<Value> {
        if (!var.positional())
          return keyTile(kt0, st);
        // Skip the tile when its first key comes after every query's last
        // visible key, or (window) its last real key before every query's
        // first visible key (keys past kn have INT64_MAX, padding keys of the
        // layout a sentinel past every position: never skipped).
        Value kp = vector::LoadOp::create(
            b, VectorType::get({kKeyTile}, b.getI64Type()), kpos,
            ValueRange{kt0});
        Value kmin = vector::ReductionOp::create(
            b, vector::CombiningKind::MINSI, kp);
        Value skip = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, kmin,
                                           qmax);
        if (qmin) {
          Value kmax = vector::ReductionOp::create(
              b, vector::CombiningKind::MAXSI, kp);
          skip = arith::OrIOp::create(
              b, skip,
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, kmax, qmin));
        }
        return b.ifElse(
            skip, [&] { return SmallVector<Value>(st); },
            [&] { return keyTile(kt0, st); });
      });
  if (rowLanes) {
    if (accLanes)
      emitDeferredValueUpdate(slot, state[2]);
    vector::StoreOp::create(b, state[0], ms, ValueRange{slot});
    vector::StoreOp::create(b, state[1], ls, ValueRange{slot});
    return;
  }
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value r = slotRow(slot, ii);
    memref::StoreOp::create(b, state[ii], ms, ValueRange{r});
    vector::StoreOp::create(b, state[tq + ii], ls, ValueRange{r, b.index(0)});
  }
}

/// S_ii = Σ_d Qs[ii][d] · Kt[kt0/16][d][0:16] for the tq rows: one K load
/// and tq broadcast loads feed tq FMAs on vector<16xf32> accumulators that
/// stay in registers across the D loop.
SmallVector<Value> AttentionKernelEmitter::emitScores(Value slot, Value kt0) {
  auto tileType = VectorType::get({kKeyTile}, b.getF32Type());
  SmallVector<Value> zeros(tq, b.splat(kKeyTile, b.f32(0.0)));
  Value tile = arith::DivUIOp::create(b, kt0, b.index(kKeyTile));
  SmallVector<Value> rows;
  for (int64_t ii = 0; ii < tq; ++ii)
    rows.push_back(slotRow(slot, ii));
  if (var.bf16Dot) {
    // One Kp load and tq broadcasts of a Q pair feed tq dot products.
    auto pairType = VectorType::get({kKeyTile}, b.getI32Type());
    auto bf16Type = VectorType::get({2 * kKeyTile}, b.getBF16Type());
    SmallVector<Value> dots = b.forRangeIter(
        0, headDim / 2, 1, zeros,
        [&](Value e, ValueRange s) -> SmallVector<Value> {
          Value kvec = vector::BitCastOp::create(
              b, bf16Type,
              vector::LoadOp::create(b, pairType, kt,
                                     ValueRange{tile, e, b.index(0)}));
          SmallVector<Value> next;
          for (int64_t ii = 0; ii < tq; ++ii) {
            Value qp = memref::LoadOp::create(b, qs, ValueRange{rows[ii], e});
            Value qvec = vector::BitCastOp::create(
                b, bf16Type, vector::BroadcastOp::create(b, pairType, qp));
            next.push_back(x86vector::DotBF16Op::create(b, tileType, s[ii],
                                                        qvec, kvec));
          }
          return next;
        });
    Value scale = b.splat(kKeyTile, b.f32(var.scale));
    for (Value &s : dots)
      s = arith::MulFOp::create(b, s, scale);
    return dots;
  }
  return b.forRangeIter(
      0, headDim, 1, zeros, [&](Value d, ValueRange s) -> SmallVector<Value> {
        Value kvec = vector::LoadOp::create(b, tileType, kt,
                                            ValueRange{tile, d, b.index(0)});
        SmallVector<Value> next;
        for (int64_t ii = 0; ii < tq; ++ii) {
          Value qv = memref::LoadOp::create(b, qs, ValueRange{rows[ii], d});
          next.push_back(vector::FMAOp::create(b, b.splat(kKeyTile, qv), kvec,
                                               s[ii]));
        }
        return next;
      });
}

/// α_ii = e^(mOld_ii − mSafe_ii) for every row as one vector exp (lanes
/// rounded up to a power of two; the extra lanes compute e^0).
SmallVector<Value>
AttentionKernelEmitter::emitAlphas(ValueRange mOld, ArrayRef<Value> mSafe) {
  int64_t lanes = llvm::PowerOf2Ceil(tq);
  SmallVector<Value> diffs;
  for (int64_t ii = 0; ii < lanes; ++ii)
    diffs.push_back(ii < tq ? arith::SubFOp::create(b, mOld[ii], mSafe[ii])
                                  .getResult()
                            : b.f32(0.0));
  Value alpha = math::ExpOp::create(
      b, vector::FromElementsOp::create(
             b, VectorType::get({lanes}, b.getF32Type()), diffs));
  SmallVector<Value> alphas;
  for (int64_t ii = 0; ii < tq; ++ii)
    alphas.push_back(
        vector::ExtractOp::create(b, alpha, ArrayRef<int64_t>{ii}));
  return alphas;
}

SmallVector<Value> AttentionKernelEmitter::emitKeyTile(Value bi, Value hk,
                                                       Value slot, Value kt0,
                                                       ArrayRef<Value> qpos,
                                                       ArrayRef<Value> qlo,
                                                       ValueRange state) {
  SmallVector<Value> scores = emitScores(slot, kt0);
  Value kp;
  if (needMask)
    kp = vector::LoadOp::create(b, VectorType::get({kKeyTile}, b.getI64Type()),
                                kpos, ValueRange{kt0});
  Value negInfTile = b.splat(kKeyTile, b.negInf());
  // The scores are finite or −inf, never NaN: the max needs no NaN fixups.
  auto noNaN = arith::FastMathFlags::nnan;
  SmallVector<Value> newM, mSafes, probs;
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value s = scores[ii], visible;
    if (needMask) {
      visible = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, kp,
                                      b.splat(kKeyTile, qpos[ii]));
      if (!qlo.empty())
        visible = arith::AndIOp::create(
            b, visible,
            arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kp,
                                  b.splat(kKeyTile, qlo[ii])));
      s = arith::SelectOp::create(b, visible, s, negInfTile);
    }
    Value tileMax = vector::ReductionOp::create(
        b, vector::CombiningKind::MAXNUMF, s, noNaN);
    Value mNew = arith::MaxNumFOp::create(b, state[ii], tileMax, noNaN);
    // A row with no visible key so far keeps m = −inf; subtracting 0
    // instead keeps exp(−inf − (−inf)) = NaN out.
    Value allMasked =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, b.negInf());
    Value mSafe = arith::SelectOp::create(b, allMasked, b.f32(0.0), mNew);
    Value p = math::ExpOp::create(
        b, arith::SubFOp::create(b, s, b.splat(kKeyTile, mSafe)));
    // The polynomial exp clamps its argument, so exp(−inf) is tiny rather
    // than 0: masked keys get p = 0 explicitly.
    if (needMask)
      p = arith::SelectOp::create(b, visible, p, b.splat(kKeyTile, b.f32(0.0)));
    if (pvDot)
      vector::StoreOp::create(
          b,
          vector::BitCastOp::create(
              b, VectorType::get({kKeyTile / 2}, b.getI32Type()),
              x86vector::CvtPackedF32ToBF16Op::create(
                  b, VectorType::get({kKeyTile}, b.getBF16Type()), p)),
          ps, ValueRange{b.index(ii), b.index(0)});
    else
      vector::StoreOp::create(b, p, ps, ValueRange{b.index(ii), b.index(0)});
    newM.push_back(mNew);
    mSafes.push_back(mSafe);
    probs.push_back(p);
  }
  SmallVector<Value> alphas = emitAlphas(state.take_front(tq), mSafes);
  SmallVector<Value> newL;
  for (int64_t ii = 0; ii < tq; ++ii)
    newL.push_back(vector::FMAOp::create(b, b.splat(kKeyTile, alphas[ii]),
                                         state[tq + ii], probs[ii]));
  SmallVector<Value> alphaRows;
  for (Value alpha : alphas)
    alphaRows.push_back(b.splat(width, alpha));
  emitValueUpdate(bi, hk, slot, kt0, [&](int64_t ii, Value a) -> Value {
    return arith::MulFOp::create(b, a, alphaRows[ii]);
  });
  SmallVector<Value> next(newM);
  next.append(newL);
  return next;
}

/// Row lanes: St[j] = Σ_d Kt[kt0/16][d][j] · QsT[slot/16][d][0:16] for the
/// 16 keys j of the tile, a vector over the tile's rows: one QsT load and
/// 16 broadcasts of a K element (bf16: of a K pair) feed 16 FMAs (dot
/// products) on accumulators that stay in registers across the D loop.
SmallVector<Value> AttentionKernelEmitter::emitScoresLanes(Value slot,
                                                           Value kt0) {
  auto laneType = VectorType::get({tq}, b.getF32Type());
  SmallVector<Value> zeros(kKeyTile, b.splat(tq, b.f32(0.0)));
  Value tile = arith::DivUIOp::create(b, kt0, b.index(kKeyTile));
  Value qtile = arith::DivUIOp::create(b, slot, b.index(tq));
  if (var.bf16Dot) {
    auto pairType = VectorType::get({tq}, b.getI32Type());
    auto bf16Type = VectorType::get({2 * tq}, b.getBF16Type());
    return b.forRangeIter(
        0, headDim / 2, 1, zeros,
        [&](Value e, ValueRange s) -> SmallVector<Value> {
          Value qvec = vector::BitCastOp::create(
              b, bf16Type,
              vector::LoadOp::create(b, pairType, qs,
                                     ValueRange{qtile, e, b.index(0)}));
          SmallVector<Value> next;
          for (int64_t j = 0; j < kKeyTile; ++j) {
            Value kp =
                memref::LoadOp::create(b, kt, ValueRange{tile, e, b.index(j)});
            Value kvec = vector::BitCastOp::create(
                b, bf16Type, vector::BroadcastOp::create(b, pairType, kp));
            next.push_back(
                x86vector::DotBF16Op::create(b, laneType, s[j], qvec, kvec));
          }
          return next;
        });
  }
  return b.forRangeIter(
      0, headDim, 1, zeros, [&](Value d, ValueRange s) -> SmallVector<Value> {
        Value qvec = vector::LoadOp::create(b, laneType, qs,
                                            ValueRange{qtile, d, b.index(0)});
        SmallVector<Value> next;
        for (int64_t j = 0; j < kKeyTile; ++j) {
          Value kv =
              memref::LoadOp::create(b, kt, ValueRange{tile, d, b.index(j)});
          next.push_back(vector::FMAOp::create(b, b.splat(tq, kv), qvec, s[j]));
        }
        return next;
      });
}

/// 2^x for x <= 8 (lanes of f32): x = n + f with n an integer and
/// |f| <= 1/2, 2^f a polynomial fitted for relative error on [−1/2, 1/2]
/// (degree 5: 2.3e-7 evaluated in f32, for f32 inputs; degree 3: 7.5e-5,
/// for 16-bit inputs, whose P is rounded to 8 bits anyway) and 2^n applied
/// by vscalefps on AVX-512 (exact, and 0 below 2^−149), otherwise built in
/// the exponent bits. x is clamped (AVX-512: to −160, where vscalefps
/// underflows to 0; otherwise to −127, where the exponent field is 0), so
/// −inf (masked) scores give exactly 0 with no select; `finite` (every x
/// finite: a key tile without masked keys, after the max) drops the clamp
/// on AVX-512, where a very negative finite x needs none. Fewer operations
/// than math.exp's expansion (no range checks: x is bounded above).
Value AttentionKernelEmitter::emitExp2(Value x, bool finite) {
  int64_t lanes = cast<VectorType>(x.getType()).getDimSize(0);
  auto splat = [&](double c) { return b.splat(lanes, b.f32(c)); };
  static constexpr double kDegree5[] = {1.00000007,    0.693146967,
                                        0.240221198,   0.0555071332,
                                        0.00967553769, 0.00132764444};
  static constexpr double kDegree3[] = {0.999928109, 0.693260986, 0.242610541,
                                        0.0551713211};
  ArrayRef<double> coeffs = var.q.getElementType().isF32()
                                ? ArrayRef<double>(kDegree5)
                                : ArrayRef<double>(kDegree3);
  auto polynomial = [&](Value f) {
    Value p = splat(coeffs.back());
    for (double c : llvm::reverse(coeffs.drop_back()))
      p = vector::FMAOp::create(b, p, f, splat(c));
    return p;
  };
  if (var.avx512 && lanes == 16) {
    // n = roundeven(x) (vrndscaleps), 2^f · 2^n = vscalefps(2^f, n): 7
    // instructions (the shifter form below takes 9 and the clamp).
    if (!finite)
      x = laneMax(x, splat(-160.0));
    Value n = math::RoundEvenOp::create(b, x);
    Value p = polynomial(arith::SubFOp::create(b, x, n));
    return x86vector::MaskScaleFOp::create(
        b, x.getType(), p, n, p,
        arith::ConstantOp::create(b, b.getI16IntegerAttr(-1)),
        arith::ConstantOp::create(b, b.getI32IntegerAttr(4)));
  }
  // (x + 1.5·2^23 + 127) rounds x to an integer n (ties to even) and holds
  // n + 127 in its low mantissa bits.
  constexpr double kShifter = 12582912.0 + 127.0;
  x = laneMax(x, splat(-127.0));
  Value t = arith::AddFOp::create(b, x, splat(kShifter));
  Value n = arith::SubFOp::create(b, t, splat(kShifter));
  Value p = polynomial(arith::SubFOp::create(b, x, n));
  auto intType = VectorType::get({lanes}, b.getI32Type());
  Value bits = arith::ShLIOp::create(
      b, vector::BitCastOp::create(b, intType, t), b.splat(lanes, b.i32(23)));
  return arith::MulFOp::create(b, p,
                               vector::BitCastOp::create(b, x.getType(), bits));
}

/// One key tile with row lanes: St[j] over the 16 rows (emitScoresLanes),
/// the mask per key j as one compare of its position with the rows'
/// bounds, and the online softmax in log2 units on vectors over the rows
/// (no horizontal reductions): the tile max is 15 vmaxps, m moves only
/// when it grows by more than kStaleMax (then α = 2^(m − m') < 1 for
/// those rows, 1 for the rest), p = 2^(St[j] − m') (bf16 dot products
/// multiply St by scale·log2 e; f32 Qs carries it), l' = α·l + Σ_j p_j.
/// P is stored key-major (pairs of keys with bf16 dot products) and the
/// accumulators are rescaled only when some row's m moved.
SmallVector<Value>
AttentionKernelEmitter::emitKeyTileLanes(Value bi, Value hk, Value slot,
                                         Value kt0, Value qposLanes,
                                         Value qloLanes, ValueRange state,
                                         bool masked) {
  SmallVector<Value> scores = emitScoresLanes(slot, kt0);
  // To log2 units (bf16 dot products; f32 Qs carries the factor). Not
  // folded into the exponent's FMA: at the max key, c·S rounded once for
  // m and once inside an FMA differ by an ulp of c·S, which is huge at
  // large logits (test/Execution/cpu-numerics.test).
  if (var.bf16Dot)
    for (Value &s : scores)
      s = arith::MulFOp::create(b, s, b.splat(tq, b.f32(var.scale * kLog2E)));
  Value negInf = b.splat(tq, b.negInf());
  if (masked) {
    for (int64_t j = 0; j < kKeyTile; ++j) {
      Value kp = b.splat(
          tq,
          memref::LoadOp::create(
              b, kpos, ValueRange{arith::AddIOp::create(b, kt0, b.index(j))}));
      Value visible =
          arith::CmpIOp::create(b, arith::CmpIPredicate::sle, kp, qposLanes);
      if (qloLanes)
        visible = arith::AndIOp::create(
            b, visible,
            arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kp, qloLanes));
      scores[j] = arith::SelectOp::create(b, visible, scores[j], negInf);
    }
  }
  // Tree max over the keys (the scores are finite or −inf, never NaN).
  SmallVector<Value> level(scores);
  while (level.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      next.push_back(laneMax(level[i], level[i + 1]));
    level = std::move(next);
  }
  Value tileMax = level[0];
  Value mOld = state[0], lOld = state[1];
  Value moved = arith::CmpFOp::create(
      b, arith::CmpFPredicate::OGT, tileMax,
      arith::AddFOp::create(b, mOld, b.splat(tq, b.f32(kStaleMax))));
  Value mNew = arith::SelectOp::create(b, moved, tileMax, mOld);
  // A row with no visible key so far keeps m = −inf; subtracting 0
  // instead keeps −inf − (−inf) = NaN out.
  Value allMasked =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
  Value mSafe =
      arith::SelectOp::create(b, allMasked, b.splat(tq, b.f32(0.0)), mNew);
  // α = 1 exactly where m stayed (the polynomial is not exact at 0).
  auto alphaOf = [&] {
    return arith::SelectOp::create(
               b, moved, emitExp2(arith::SubFOp::create(b, mOld, mSafe)),
               b.splat(tq, b.f32(1.0)))
        .getResult();
  };
  Value anyMoved =
      vector::ReductionOp::create(b, vector::CombiningKind::OR, moved);
  SmallVector<Value> probs;
  for (Value s : scores)
    probs.push_back(
        emitExp2(arith::SubFOp::create(b, s, mSafe), /*finite=*/!masked));
  SmallVector<Value> sums(probs);
  while (sums.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < sums.size(); i += 2)
      next.push_back(arith::AddFOp::create(b, sums[i], sums[i + 1]));
    sums = std::move(next);
  }
  // accLanes: α only where some row's max moved (most tiles: none), as
  // the deferred P·V reads it only there; l' = l + Σ p otherwise.
  Value alpha, lNew;
  if (accLanes) {
    lNew = b.ifElse(
        anyMoved,
        [&] {
          Value a = alphaOf();
          vector::StoreOp::create(b, a, alphaBlock,
                                  ValueRange{state[2], b.index(0)});
          return SmallVector<Value>{
              vector::FMAOp::create(b, a, lOld, sums[0])};
        },
        [&] {
          return SmallVector<Value>{
              arith::AddFOp::create(b, lOld, sums[0])};
        })[0];
  } else {
    alpha = alphaOf();
    lNew = vector::FMAOp::create(b, alpha, lOld, sums[0]);
  }
  SmallVector<Value> pairs;
  if (pvDot) {
    // ps[jp][ii] = the bf16 pair P[ii][2jp], P[ii][2jp + 1] (accLanes: in
    // pBlock, below).
    auto halfType = VectorType::get({tq}, b.getBF16Type());
    for (int64_t jp = 0; jp < kKeyTile / 2; ++jp) {
      Value lo =
          x86vector::CvtPackedF32ToBF16Op::create(b, halfType, probs[2 * jp]);
      Value hi = x86vector::CvtPackedF32ToBF16Op::create(b, halfType,
                                                         probs[2 * jp + 1]);
      pairs.push_back(vector::InterleaveOp::create(b, lo, hi));
      if (!accLanes)
        vector::StoreOp::create(
            b,
            vector::BitCastOp::create(
                b, VectorType::get({tq}, b.getI32Type()), pairs.back()),
            ps, ValueRange{b.index(jp), b.index(0)});
    }
  } else {
    for (int64_t j = 0; j < kKeyTile; ++j)
      vector::StoreOp::create(b, probs[j], ps,
                              ValueRange{b.index(j), b.index(0)});
  }
  if (accLanes) {
    // The P·V is deferred to the end of the key block
    // (emitDeferredValueUpdate): this tile's P, α and key tile are kept in
    // slot `count` of the block's buffers.
    Value count = state[2];
    for (auto [jp, p] : llvm::enumerate(pairs))
      vector::StoreOp::create(
          b,
          vector::BitCastOp::create(b, VectorType::get({tq}, b.getI32Type()),
                                    p),
          pBlock, ValueRange{count, b.index(jp), b.index(0)});
    memref::StoreOp::create(
        b, arith::ExtUIOp::create(b, b.getI32Type(), anyMoved), movedBlock,
        ValueRange{count});
    memref::StoreOp::create(
        b, arith::IndexCastOp::create(b, b.getI64Type(), kt0), keyTileBlock,
        ValueRange{count});
    return {mNew, lNew, arith::AddIOp::create(b, count, b.index(1))};
  }
  vector::StoreOp::create(b, alpha, alphas, ValueRange{b.index(0)});
  b.ifElse(
      anyMoved,
      [&] {
        emitValueUpdate(bi, hk, slot, kt0, [&](int64_t ii, Value a) -> Value {
          Value alphaRow =
              b.splat(width, memref::LoadOp::create(b, alphas,
                                                    ValueRange{b.index(ii)}));
          return arith::MulFOp::create(b, a, alphaRow);
        });
        return SmallVector<Value>();
      },
      [&] {
        emitValueUpdate(bi, hk, slot, kt0, nullptr);
        return SmallVector<Value>();
      });
  return {mNew, lNew};
}

/// Acc[ii][d:d+width] = α_ii·Acc[ii][d:d+width] + Σ_j P[ii][j]·V[kt0+j][d:..]
/// per head_dim chunk: the tq accumulators stay in registers across the 16
/// keys, each V row is loaded once for all rows and each P[ii][j] is one
/// broadcast load.
void AttentionKernelEmitter::emitValueUpdate(
    Value bi, Value hk, Value slot, Value kt0,
    function_ref<Value(int64_t, Value)> rescale) {
  auto rowType = VectorType::get({width}, b.getF32Type());
  SmallVector<Value> rows;
  for (int64_t ii = 0; ii < tq; ++ii)
    rows.push_back(slotRow(slot, ii));
  // P[ii][j] is at ps[ii][j], or at ps[j][ii] with row lanes.
  auto pIndex = [&](int64_t ii, Value j) -> SmallVector<Value> {
    if (rowLanes)
      return {j, b.index(ii)};
    return {b.index(ii), j};
  };
  b.forRange(0, headDim, width, [&](Value d) {
    SmallVector<Value> accs;
    for (int64_t ii = 0; ii < tq; ++ii) {
      Value a = vector::LoadOp::create(b, rowType, acc, ValueRange{rows[ii], d});
      accs.push_back(rescale ? rescale(ii, a) : a);
    }
    if (pvDot) {
      // Pairs of keys: one Vp load and tq broadcasts of a P pair feed tq
      // dot products.
      auto pairType = VectorType::get({width}, b.getI32Type());
      auto bf16Type = VectorType::get({2 * width}, b.getBF16Type());
      Value pair0 = arith::DivUIOp::create(b, kt0, b.index(2));
      SmallVector<Value> sums = b.forRangeIter(
          0, kKeyTile / 2, 1, accs,
          [&](Value jp, ValueRange a) -> SmallVector<Value> {
            Value vv = vector::BitCastOp::create(
                b, bf16Type,
                vector::LoadOp::create(
                    b, pairType, vp,
                    ValueRange{arith::AddIOp::create(b, pair0, jp), d}));
            SmallVector<Value> next;
            for (int64_t ii = 0; ii < tq; ++ii) {
              Value pp = memref::LoadOp::create(b, ps, pIndex(ii, jp));
              Value pvec = vector::BitCastOp::create(
                  b, bf16Type, vector::BroadcastOp::create(b, pairType, pp));
              next.push_back(
                  x86vector::DotBF16Op::create(b, rowType, a[ii], pvec, vv));
            }
            return next;
          });
      for (int64_t ii = 0; ii < tq; ++ii)
        vector::StoreOp::create(b, sums[ii], acc, ValueRange{rows[ii], d});
      return;
    }
    // The keys stay a loop: unrolled, every broadcast P[ii][j] would be
    // invariant in the head_dim loop and LLVM would hoist (and spill) all
    // 16·tq of them.
    SmallVector<Value> sums = b.forRangeIter(
        0, kKeyTile, 1, accs,
        [&](Value jj, ValueRange a) -> SmallVector<Value> {
          Value vv =
              loadValueRow(bi, hk, arith::AddIOp::create(b, kt0, jj), d);
          SmallVector<Value> next;
          for (int64_t ii = 0; ii < tq; ++ii) {
            Value pj = memref::LoadOp::create(b, ps, pIndex(ii, jj));
            next.push_back(
                vector::FMAOp::create(b, b.splat(width, pj), vv, a[ii]));
          }
          return next;
        });
    for (int64_t ii = 0; ii < tq; ++ii)
      vector::StoreOp::create(b, sums[ii], acc, ValueRange{rows[ii], d});
  });
}

/// Row lanes with bf16 dot products (accLanes): O is kept transposed,
/// Acc[tile][d] = the column d of the tile's 16 rows, and the P·V of a key
/// block's `count` key tiles runs after all their softmaxes, from the P
/// pairs, α and moved flags they left in pBlock, alphaBlock and movedBlock:
/// for every chunk of 16 columns, 16 accumulators are loaded once, then
/// per key tile rescaled by its α (only where some row's max moved) and
/// given Σ_jp dot(P pair jp (a vector over the rows), broadcast of
/// Vp[pair][d]), then stored once. So the loop has the shape of the S loop
/// (one P load and 16 vdpbf16ps with a {1to16} broadcast of V per key
/// pair), the accumulators are loaded and stored once per key block
/// instead of once per key tile, and no P·V waits on the softmax of the
/// tile just before it (the out-of-order core overlaps a tile's softmax
/// with the next tile's S loop, which does not depend on it).
void AttentionKernelEmitter::emitDeferredValueUpdate(Value slot,
                                                     Value count) {
  auto laneType = VectorType::get({tq}, b.getF32Type());
  auto pairType = VectorType::get({2 * tq}, b.getBF16Type());
  auto pairBitsType = VectorType::get({tq}, b.getI32Type());
  Value qtile = arith::DivUIOp::create(b, slot, b.index(tq));
  // V pairs are addressed as Vp[pair·D + d] + a constant (jp·D + c), so
  // that the constant folds into the instruction's displacement: with the
  // 16 columns d + c as separate values, LLVM hoists them out of the key
  // tile loop into 16 registers and spills.
  Value vpFlat = b.flatten(vp);
  constexpr int64_t kColumns = 16;
  b.forRange(0, headDim, kColumns, [&](Value d) {
    SmallVector<Value> cols, init;
    for (int64_t c = 0; c < kColumns; ++c) {
      cols.push_back(arith::AddIOp::create(b, d, b.index(c)));
      init.push_back(vector::LoadOp::create(
          b, laneType, acc, ValueRange{qtile, cols[c], b.index(0)}));
    }
    SmallVector<Value> sums = b.forRangeIter(
        b.index(0), count, b.index(1), init,
        [&](Value t, ValueRange a) -> SmallVector<Value> {
          Value moved = arith::CmpIOp::create(
              b, arith::CmpIPredicate::ne,
              memref::LoadOp::create(b, movedBlock, ValueRange{t}), b.i32(0));
          SmallVector<Value> accs = b.ifElse(
              moved,
              [&] {
                Value alpha = vector::LoadOp::create(
                    b, laneType, alphaBlock, ValueRange{t, b.index(0)});
                SmallVector<Value> scaled;
                for (Value x : a)
                  scaled.push_back(arith::MulFOp::create(b, x, alpha));
                return scaled;
              },
              [&] { return SmallVector<Value>(a); });
          Value pair0 = arith::DivUIOp::create(
              b,
              arith::IndexCastOp::create(
                  b, b.getIndexType(),
                  memref::LoadOp::create(b, keyTileBlock, ValueRange{t})),
              b.index(2));
          Value vBase = arith::AddIOp::create(
              b, arith::MulIOp::create(b, pair0, b.index(headDim)), d);
          for (int64_t jp = 0; jp < kKeyTile / 2; ++jp) {
            Value p = vector::BitCastOp::create(
                b, pairType,
                vector::LoadOp::create(b, pairBitsType, pBlock,
                                       ValueRange{t, b.index(jp), b.index(0)}));
            for (int64_t c = 0; c < kColumns; ++c) {
              Value vv = memref::LoadOp::create(
                  b, vpFlat,
                  ValueRange{arith::AddIOp::create(
                      b, vBase, b.index(jp * headDim + c))});
              Value vvec =
                  vector::BitCastOp::create(b, pairType, b.splat(tq, vv));
              accs[c] =
                  x86vector::DotBF16Op::create(b, laneType, accs[c], p, vvec);
            }
          }
          return accs;
        });
    for (int64_t c = 0; c < kColumns; ++c)
      vector::StoreOp::create(b, sums[c], acc,
                              ValueRange{qtile, cols[c], b.index(0)});
  });
}

/// accLanes: accRows[ii][d] = Acc[tile][d][ii], 16 × 16 blocks transposed
/// in registers (transposeSquare).
void AttentionKernelEmitter::emitAccRows(Value slot) {
  auto laneType = VectorType::get({tq}, b.getF32Type());
  Value qtile = arith::DivUIOp::create(b, slot, b.index(tq));
  b.forRange(0, headDim, tq, [&](Value d) {
    SmallVector<Value> cols;
    for (int64_t c = 0; c < tq; ++c)
      cols.push_back(vector::LoadOp::create(
          b, laneType, acc,
          ValueRange{qtile, arith::AddIOp::create(b, d, b.index(c)),
                     b.index(0)}));
    SmallVector<Value> rows = transposeSquare(b, cols);
    for (int64_t ii = 0; ii < tq; ++ii)
      vector::StoreOp::create(b, rows[ii], accRows,
                              ValueRange{b.index(ii), d});
  });
}

void AttentionKernelEmitter::emitWriteRows(Value bi, Value h, Value slot,
                                           Value qt) {
  auto rowType = VectorType::get({width}, b.getF32Type());
  if (accLanes)
    emitAccRows(slot);
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value row = arith::AddIOp::create(b, qt, b.index(ii));
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row,
                                          b.index(var.qn));
    b.ifThen(inRange, [&] {
      Value r = slotRow(slot, ii);
      Value m = memref::LoadOp::create(b, ms, ValueRange{r});
      Value l;
      if (rowLanes) {
        // m is in log2 units.
        m = arith::MulFOp::create(b, m, b.f32(kLn2));
        l = memref::LoadOp::create(b, ls, ValueRange{r});
      } else {
        l = vector::ReductionOp::create(
            b, vector::CombiningKind::ADD,
            vector::LoadOp::create(b,
                                   VectorType::get({kKeyTile}, b.getF32Type()),
                                   ls, ValueRange{r, b.index(0)}));
      }
      Value valid =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, l, b.f32(0.0));
      Value inv = arith::SelectOp::create(
          b, valid, arith::DivFOp::create(b, b.f32(1.0), l), b.f32(0.0));
      Value lse = arith::SelectOp::create(
          b, valid, arith::AddFOp::create(b, m, math::LogOp::create(b, l)),
          b.negInf());
      // The partial's row is `row`; the accumulator's is q0 + row.
      Value out = row;
      if (var.accumulate)
        out = arith::AddIOp::create(b, row, b.index(var.q0));
      // O = Acc · c (+ O_acc · wa when merging).
      auto writeRow = [&](Value c, Value wa) {
        Value cVec = b.splat(width, c);
        Value waVec = wa ? b.splat(width, wa) : Value();
        b.forRange(0, headDim, width, [&](Value d) {
          Value a = accLanes ? vector::LoadOp::create(
                                   b, rowType, accRows,
                                   ValueRange{b.index(ii), d})
                             : vector::LoadOp::create(b, rowType, acc,
                                                      ValueRange{r, d});
          Value o = arith::MulFOp::create(b, a, cVec);
          if (waVec) {
            Value old = vector::LoadOp::create(b, rowType, po,
                                               ValueRange{bi, h, out, d});
            o = vector::FMAOp::create(b, old, waVec, o);
          }
          vector::StoreOp::create(b, o, po, ValueRange{bi, h, out, d});
        });
      };
      if (!var.accumulate || var.first) {
        writeRow(inv, Value());
        memref::StoreOp::create(b, lse, pl, ValueRange{bi, h, out});
        return;
      }
      Value lseAcc = memref::LoadOp::create(b, pl, ValueRange{bi, h, out});
      emitMergeWeights(b, lseAcc, lse, [&](Value merged, Value wa, Value wb) {
        writeRow(arith::MulFOp::create(b, wb, inv), wa);
        memref::StoreOp::create(b, merged, pl, ValueRange{bi, h, out});
      });
    });
  }
}

} // namespace

/// The kernel of either block op: they share operands and attributes.
template <typename OpTy>
static func::FuncOp getKernel(KernelCache &cache, OpTy op, int64_t queryTile,
                              bool accumulate, bool first) {
  AttentionVariant var;
  var.accumulate = accumulate;
  var.first = first;
  var.q = cast<MemRefType>(op.getQuery().getType());
  var.kv = cast<MemRefType>(op.getKey().getType());
  var.q0 = op.getQRows()[0];
  var.qn = op.getQRows()[1];
  var.k0 = op.getKvRows()[0];
  var.kn = op.getKvRows()[1];
  var.causal = op.getMask() == MaskKind::causal;
  if (WindowAttr w = op.getWindowAttr()) {
    var.windowLeft = w.getLeft();
    var.windowRight = w.getRight();
  }
  var.layout = op.getLayout();
  var.ringSize = op.getRingSize();
  var.seqLen = op.getSeqLen();
  var.documents = static_cast<bool>(op.getDocuments());
  var.scale = op.getScale().convertToDouble();
  var.queryTile = std::clamp<int64_t>(queryTile, 1, 16);
  const CpuVariant *isa = cache.cpuVariant();
  var.avx512 = isa && isa->vectorBits >= 512;
  var.bf16Dot = isa && isa->bf16Dot && var.q.getElementType().isBF16() &&
                var.kv.getElementType().isBF16() &&
                var.q.getDimSize(3) % 2 == 0;

  Builder b(op.getContext());
  SmallVector<Type> inputs(op->getOperandTypes());
  auto type = b.getFunctionType(inputs, {});
  std::string key = variantKey(op) + "tq=" + std::to_string(var.queryTile);
  func::FuncOp progress = cache.declare(
      "ringrt_cg_progress", b.getFunctionType({}, {b.getI32Type()}));
  return cache.getOrCreate(
      "ring_cpu_block_attention", key, type,
      [&](KernelBuilder &kb, func::FuncOp fn) {
        AttentionKernelEmitter(kb, var, fn.getArguments(), progress).emit();
      });
}

func::FuncOp mlir::ring::cpu::getBlockAttentionKernel(KernelCache &cache,
                                                      BlockAttentionOp op,
                                                      int64_t queryTile) {
  return getKernel(cache, op, queryTile, /*accumulate=*/false,
                   /*first=*/false);
}

func::FuncOp mlir::ring::cpu::getBlockAttentionKernel(
    KernelCache &cache, BlockAttentionAccumulateOp op, int64_t queryTile) {
  return getKernel(cache, op, queryTile, /*accumulate=*/true, op.getFirst());
}
