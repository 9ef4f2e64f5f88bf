//===- AttentionKernel.cpp - blockwise flash attention on the CPU -*- C++ -*-===//
//
// This file implements the CPU kernel of ring.block_attention: a blockwise
// flash-attention kernel in scf + vector.
//
// Structure, for every batch b and key/value head hk:
//   1. K rows [k0, k0+kn) are widened to f32 and transposed into
//      Kt[KNP/16][D][16]
//      and V rows into Vw[KNP][D] (KNP = kn rounded up to the key tile, 16;
//      padded rows repeat the last row and are masked). Every query head of
//      the GQA group of hk then reuses them.
//   2. For every tile of `queryTile` query rows (the last tile is clamped to
//      valid rows and only valid rows are written), Q is widened and
//      pre-scaled into Qs[TQ][D], and for every key tile of 16 keys:
//      * unless every key of the tile is masked for every row of the query
//        tile (causal; then the tile is skipped),
//      * scores S[i][0:16] = Σ_d Qs[i][d]·Kt[j0/16][d][0:16] as vector<16xf32>
//        FMAs (no horizontal reductions),
//      * the causal / padding mask from the global positions,
//      * the online softmax in fp32: m' = max(m, max S), p = e^(S−m'),
//        α = e^(m−m'), l' = α·l + Σp (with m' = −inf treated as 0 so that a
//        row masked so far never produces NaN),
//      * Acc[i][:] = α·Acc[i][:] + Σ_j p_j·Vw[j][:] over head_dim vectors.
//   3. Rows write O = Acc/l and LSE = m + log l, or O = 0, LSE = −inf when
//      every key was masked (l = 0).
// exp and log are expanded later into polynomial approximations that work
// on vectors (upstream populateMathPolynomialApproximationPatterns).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/AttentionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

namespace {

/// The compile-time shape of one block_attention variant.
struct AttentionVariant {
  MemRefType q, kv;
  int64_t q0, qn, k0, kn;
  bool causal;
  Balance layout;
  int64_t ringSize;
  double scale;
  int64_t queryTile;
};

/// Builds the kernel body; see the file comment.
class AttentionKernelEmitter {
public:
  AttentionKernelEmitter(KernelBuilder &b, const AttentionVariant &var,
                         ValueRange args)
      : b(b), var(var), q(args[0]), k(args[1]), v(args[2]), po(args[3]),
        pl(args[4]) {
    batch = var.q.getDimSize(0);
    heads = var.q.getDimSize(1);
    headDim = var.q.getDimSize(3);
    kvHeads = var.kv.getDimSize(1);
    group = heads / kvHeads;
    tq = var.queryTile;
    knPadded = llvm::divideCeil(var.kn, kKeyTile) * kKeyTile;
    width = vectorWidthFor(headDim);
    needMask = var.causal || var.kn % kKeyTile != 0;
    qOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[5]);
    kvOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[6]);
  }

  void emit();

private:
  void emitKeyPositions();
  void emitWidenKV(Value bi, Value hk);
  void emitQueryTile(Value bi, Value h, Value qt);
  SmallVector<Value> emitKeyTile(Value bi, Value h, Value kt0,
                                 ArrayRef<Value> qpos, ValueRange state);
  void emitWriteRows(Value bi, Value h, Value qt, ValueRange state);

  Value f32Memref(ArrayRef<int64_t> shape, bool onStack) {
    auto type = MemRefType::get(shape, b.getF32Type());
    if (onStack)
      return memref::AllocaOp::create(b, type);
    return memref::AllocOp::create(b, type);
  }

  KernelBuilder &b;
  const AttentionVariant &var;
  Value q, k, v, po, pl, qOwner, kvOwner;
  int64_t batch, heads, headDim, kvHeads, group, tq, knPadded, width;
  bool needMask;
  // Scratch buffers.
  Value kt, vw, kpos, qs, ps, acc;
};

void AttentionKernelEmitter::emit() {
  // Kt is tile-major, [KNP/16][D][16], so that the D vectors of one key
  // tile are contiguous (8 KiB at D = 128) instead of KNP floats apart.
  kt = f32Memref({knPadded / kKeyTile, headDim, kKeyTile}, /*onStack=*/false);
  vw = f32Memref({knPadded, headDim}, /*onStack=*/false);
  qs = f32Memref({tq, headDim}, /*onStack=*/true);
  acc = f32Memref({tq, headDim}, /*onStack=*/true);
  ps = f32Memref({tq, kKeyTile}, /*onStack=*/true);
  if (needMask) {
    kpos = memref::AllocOp::create(
        b, MemRefType::get({knPadded}, b.getI64Type()));
    emitKeyPositions();
  }
  b.forRange(0, batch, 1, [&](Value bi) {
    b.forRange(0, kvHeads, 1, [&](Value hk) {
      emitWidenKV(bi, hk);
      b.forRange(0, group, 1, [&](Value g) {
        Value h = arith::AddIOp::create(
            b, arith::MulIOp::create(b, hk, b.index(group)), g);
        b.forRange(0, var.qn, tq, [&](Value qt) { emitQueryTile(bi, h, qt); });
      });
    });
  });
  memref::DeallocOp::create(b, kt);
  memref::DeallocOp::create(b, vw);
  if (kpos)
    memref::DeallocOp::create(b, kpos);
}

/// kpos[j] = the global position of key row k0 + j (causal), 0 (no mask),
/// or INT64_MAX for padding rows, so that `kpos[j] <= qpos` is the
/// visibility test in every case.
void AttentionKernelEmitter::emitKeyPositions() {
  b.forRange(0, knPadded, 1, [&](Value j) {
    Value j64 = arith::IndexCastOp::create(b, b.getI64Type(), j);
    Value pos = b.i64(0);
    if (var.causal)
      pos = globalPosition(b, var.layout, var.kv.getDimSize(2), var.ringSize,
                           kvOwner, arith::AddIOp::create(b, j64, b.i64(var.k0)));
    Value real = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j64,
                                       b.i64(var.kn));
    Value value = arith::SelectOp::create(
        b, real, pos, b.i64(std::numeric_limits<int64_t>::max()));
    memref::StoreOp::create(b, value, kpos, ValueRange{j});
  });
}

void AttentionKernelEmitter::emitWidenKV(Value bi, Value hk) {
  b.forRange(0, knPadded, 1, [&](Value j) {
    // Padding rows repeat the last real row: finite values, masked later.
    Value row = arith::AddIOp::create(
        b, arith::MinSIOp::create(b, j, b.index(var.kn - 1)),
        b.index(var.k0));
    Value tile = arith::DivUIOp::create(b, j, b.index(kKeyTile));
    Value lane = arith::RemUIOp::create(b, j, b.index(kKeyTile));
    b.forRange(0, headDim, width, [&](Value d) {
      Value kvec = b.loadF32(k, {bi, hk, row, d}, width);
      Value vvec = b.loadF32(v, {bi, hk, row, d}, width);
      vector::StoreOp::create(b, vvec, vw, ValueRange{j, d});
      for (int64_t l = 0; l < width; ++l) {
        Value e = vector::ExtractOp::create(b, kvec, ArrayRef<int64_t>{l});
        Value dl = arith::AddIOp::create(b, d, b.index(l));
        memref::StoreOp::create(b, e, kt, ValueRange{tile, dl, lane});
      }
    });
  });
}

void AttentionKernelEmitter::emitQueryTile(Value bi, Value h, Value qt) {
  // Rows of this tile, clamped to the last valid row.
  SmallVector<Value> rows, qpos;
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value local = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, qt, b.index(ii)), b.index(var.qn - 1));
    rows.push_back(arith::AddIOp::create(b, local, b.index(var.q0)));
    if (var.causal)
      qpos.push_back(globalPosition(
          b, var.layout, var.q.getDimSize(2), var.ringSize, qOwner,
          arith::IndexCastOp::create(b, b.getI64Type(), rows.back())));
    else if (needMask)
      qpos.push_back(b.i64(std::numeric_limits<int64_t>::max() - 1));
  }
  // Qs = scale · Q (f32), Acc = 0.
  Value scale = b.splat(width, b.f32(var.scale));
  Value zero = b.splat(width, b.f32(0.0));
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value iiIdx = b.index(ii);
    b.forRange(0, headDim, width, [&](Value d) {
      Value x = b.loadF32(q, {bi, h, rows[ii], d}, width);
      vector::StoreOp::create(b, arith::MulFOp::create(b, x, scale), qs,
                              ValueRange{iiIdx, d});
      vector::StoreOp::create(b, zero, acc, ValueRange{iiIdx, d});
    });
  }
  // State: m_0..m_{tq-1}, l_0..l_{tq-1}.
  SmallVector<Value> init(tq, b.negInf());
  init.append(tq, b.f32(0.0));
  Value qmax;
  if (var.causal) {
    qmax = qpos[0];
    for (int64_t ii = 1; ii < tq; ++ii)
      qmax = arith::MaxSIOp::create(b, qmax, qpos[ii]);
  }
  SmallVector<Value> state = b.forRangeIter(
      0, knPadded, kKeyTile, init,
      [&](Value kt0, ValueRange st) -> SmallVector<Value> {
        if (!var.causal)
          return emitKeyTile(bi, h, kt0, qpos, st);
        // Skip the tile when its first visible key comes after every query.
        Value kp = vector::LoadOp::create(
            b, VectorType::get({kKeyTile}, b.getI64Type()), kpos,
            ValueRange{kt0});
        Value kmin = vector::ReductionOp::create(
            b, vector::CombiningKind::MINSI, kp);
        Value skip = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, kmin,
                                           qmax);
        return b.ifElse(
            skip, [&] { return SmallVector<Value>(st); },
            [&] { return emitKeyTile(bi, h, kt0, qpos, st); });
      });
  emitWriteRows(bi, h, qt, state);
}

SmallVector<Value> AttentionKernelEmitter::emitKeyTile(Value bi, Value h,
                                                       Value kt0,
                                                       ArrayRef<Value> qpos,
                                                       ValueRange state) {
  auto tileType = VectorType::get({kKeyTile}, b.getF32Type());
  // Scores: S_ii = Σ_d Qs[ii][d] · Kt[kt0/16][d][0:16].
  SmallVector<Value> zeros(tq, b.splat(kKeyTile, b.f32(0.0)));
  Value tile = arith::DivUIOp::create(b, kt0, b.index(kKeyTile));
  SmallVector<Value> scores = b.forRangeIter(
      0, headDim, 1, zeros, [&](Value d, ValueRange s) -> SmallVector<Value> {
        Value kvec = vector::LoadOp::create(b, tileType, kt,
                                            ValueRange{tile, d, b.index(0)});
        SmallVector<Value> next;
        for (int64_t ii = 0; ii < tq; ++ii) {
          Value qv = memref::LoadOp::create(b, qs, ValueRange{b.index(ii), d});
          next.push_back(vector::FMAOp::create(b, b.splat(kKeyTile, qv), kvec,
                                               s[ii]));
        }
        return next;
      });
  Value kp;
  if (needMask)
    kp = vector::LoadOp::create(b, VectorType::get({kKeyTile}, b.getI64Type()),
                                kpos, ValueRange{kt0});
  Value negInfTile = b.splat(kKeyTile, b.negInf());
  SmallVector<Value> newM, newL, alphas;
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value s = scores[ii], visible;
    if (needMask) {
      visible = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, kp,
                                      b.splat(kKeyTile, qpos[ii]));
      s = arith::SelectOp::create(b, visible, s, negInfTile);
    }
    Value m = state[ii], l = state[tq + ii];
    Value tileMax =
        vector::ReductionOp::create(b, vector::CombiningKind::MAXNUMF, s);
    Value mNew = arith::MaxNumFOp::create(b, m, tileMax);
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
    Value alpha = math::ExpOp::create(b, arith::SubFOp::create(b, m, mSafe));
    Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD, p);
    newL.push_back(arith::AddFOp::create(
        b, arith::MulFOp::create(b, l, alpha), sum));
    newM.push_back(mNew);
    alphas.push_back(b.splat(width, alpha));
    vector::StoreOp::create(b, p, ps, ValueRange{b.index(ii), b.index(0)});
  }
  // Acc = α·Acc + P·V over head_dim vectors.
  auto rowType = VectorType::get({width}, b.getF32Type());
  b.forRange(0, headDim, width, [&](Value d) {
    SmallVector<Value> accs;
    for (int64_t ii = 0; ii < tq; ++ii) {
      Value a = vector::LoadOp::create(b, rowType, acc,
                                       ValueRange{b.index(ii), d});
      accs.push_back(arith::MulFOp::create(b, a, alphas[ii]));
    }
    SmallVector<Value> sums = b.forRangeIter(
        0, kKeyTile, 1, accs, [&](Value jj, ValueRange a) -> SmallVector<Value> {
          Value row = arith::AddIOp::create(b, kt0, jj);
          Value vv = vector::LoadOp::create(b, rowType, vw, ValueRange{row, d});
          SmallVector<Value> next;
          for (int64_t ii = 0; ii < tq; ++ii) {
            Value pj = memref::LoadOp::create(b, ps, ValueRange{b.index(ii), jj});
            next.push_back(
                vector::FMAOp::create(b, b.splat(width, pj), vv, a[ii]));
          }
          return next;
        });
    for (int64_t ii = 0; ii < tq; ++ii)
      vector::StoreOp::create(b, sums[ii], acc, ValueRange{b.index(ii), d});
  });
  SmallVector<Value> next(newM);
  next.append(newL);
  return next;
}

void AttentionKernelEmitter::emitWriteRows(Value bi, Value h, Value qt,
                                           ValueRange state) {
  auto rowType = VectorType::get({width}, b.getF32Type());
  for (int64_t ii = 0; ii < tq; ++ii) {
    Value row = arith::AddIOp::create(b, qt, b.index(ii));
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row,
                                          b.index(var.qn));
    b.ifThen(inRange, [&] {
      Value m = state[ii], l = state[tq + ii];
      Value valid =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, l, b.f32(0.0));
      Value inv = arith::SelectOp::create(
          b, valid, arith::DivFOp::create(b, b.f32(1.0), l), b.f32(0.0));
      Value invVec = b.splat(width, inv);
      b.forRange(0, headDim, width, [&](Value d) {
        Value a = vector::LoadOp::create(b, rowType, acc,
                                         ValueRange{b.index(ii), d});
        vector::StoreOp::create(b, arith::MulFOp::create(b, a, invVec), po,
                                ValueRange{bi, h, row, d});
      });
      Value lse = arith::SelectOp::create(
          b, valid, arith::AddFOp::create(b, m, math::LogOp::create(b, l)),
          b.negInf());
      memref::StoreOp::create(b, lse, pl, ValueRange{bi, h, row});
    });
  }
}

} // namespace

func::FuncOp mlir::ring::cpu::getBlockAttentionKernel(KernelCache &cache,
                                                      BlockAttentionOp op,
                                                      int64_t queryTile) {
  AttentionVariant var;
  var.q = cast<MemRefType>(op.getQuery().getType());
  var.kv = cast<MemRefType>(op.getKey().getType());
  var.q0 = op.getQRows()[0];
  var.qn = op.getQRows()[1];
  var.k0 = op.getKvRows()[0];
  var.kn = op.getKvRows()[1];
  var.causal = op.getMask() == MaskKind::causal;
  var.layout = op.getLayout();
  var.ringSize = op.getRingSize();
  var.scale = op.getScale().convertToDouble();
  var.queryTile = std::clamp<int64_t>(queryTile, 1, 8);

  Builder b(op.getContext());
  SmallVector<Type> inputs(op->getOperandTypes());
  auto type = b.getFunctionType(inputs, {});
  std::string key = variantKey(op) + "tq=" + std::to_string(var.queryTile);
  return cache.getOrCreate(
      "ring_cpu_block_attention", key, type,
      [&](KernelBuilder &kb, func::FuncOp fn) {
        AttentionKernelEmitter(kb, var, fn.getArguments()).emit();
      });
}
