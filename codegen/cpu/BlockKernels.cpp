//===- BlockKernels.cpp - CPU kernels of the per-rank block ops -*- C++ -*-===//
//
// This file implements the scf/vector kernels of the per-rank ops other than
// ring.block_attention (see AttentionKernel.cpp): accumulator fill, the
// online-softmax merge, the final rounding, and the two halves of the
// dim-slice attention (partial scores; softmax times V). Loops over
// head_dim (or over whole buffers) use the widest vector that divides the
// extent, so no tails are needed.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/BlockKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

func::FuncOp mlir::ring::cpu::getKernelFor(KernelCache &cache, Operation *op, StringRef prefix,
             function_ref<void(KernelBuilder &, ValueRange)> build) {
  Builder b(op->getContext());
  SmallVector<Type> inputs(op->getOperandTypes());
  return cache.getOrCreate(
      prefix, variantKey(op), b.getFunctionType(inputs, {}),
      [&](KernelBuilder &kb, func::FuncOp fn) {
        build(kb, fn.getArguments());
      });
}

static int64_t numElements(Value memref) {
  return cast<MemRefType>(memref.getType()).getNumElements();
}

void mlir::ring::cpu::fillBuffer(KernelBuilder &b, Value memref, double value) {
  Value flat = b.flatten(memref);
  int64_t n = numElements(memref), w = vectorWidthFor(n);
  Value splat = b.splat(w, b.f32(value));
  b.forRange(0, n, w, [&](Value i) {
    vector::StoreOp::create(b, splat, flat, ValueRange{i});
  });
}

/// Copies `src` (f32) into `dst`, rounding to dst's element type.
static void copyBuffer(KernelBuilder &b, Value src, Value dst) {
  Value flatSrc = b.flatten(src), flatDst = b.flatten(dst);
  int64_t n = numElements(src), w = vectorWidthFor(n);
  Type elem = cast<MemRefType>(dst.getType()).getElementType();
  b.forRange(0, n, w, [&](Value i) {
    Value x = vector::LoadOp::create(
        b, VectorType::get({w}, b.getF32Type()), flatSrc, ValueRange{i});
    vector::StoreOp::create(b, b.narrow(x, elem), flatDst, ValueRange{i});
  });
}

void mlir::ring::cpu::forEachRow(KernelBuilder &b, MemRefType type, int64_t rows,
                       function_ref<void(Value, Value, Value)> body) {
  b.forRange(0, type.getDimSize(0), 1, [&](Value bi) {
    b.forRange(0, type.getDimSize(1), 1, [&](Value h) {
      b.forRange(0, rows, 1, [&](Value i) { body(bi, h, i); });
    });
  });
}

func::FuncOp mlir::ring::cpu::getFillPartialKernel(KernelCache &cache,
                                                   FillPartialOp op) {
  return getKernelFor(cache, op, "ring_cpu_fill_partial",
                      [](KernelBuilder &b, ValueRange args) {
                        fillBuffer(b, args[0], 0.0);
                        fillBuffer(b, args[1],
                                   -std::numeric_limits<double>::infinity());
                      });
}

func::FuncOp mlir::ring::cpu::getFinalizeKernel(KernelCache &cache,
                                                FinalizeOp op) {
  return getKernelFor(cache, op, "ring_cpu_finalize",
                      [](KernelBuilder &b, ValueRange args) {
                        copyBuffer(b, args[0], args[2]);
                        copyBuffer(b, args[1], args[3]);
                      });
}

void mlir::ring::cpu::emitMergeWeights(
    KernelBuilder &b, Value la, Value lb,
    function_ref<void(Value lse, Value wa, Value wb)> body) {
  Value l = arith::MaxNumFOp::create(b, la, lb);
  // Both −inf: the row stays O = 0, LSE = −inf.
  Value any =
      arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, l, b.negInf());
  b.ifThen(any, [&] {
    Value ea = math::ExpOp::create(b, arith::SubFOp::create(b, la, l));
    Value eb = math::ExpOp::create(b, arith::SubFOp::create(b, lb, l));
    Value lse = arith::AddFOp::create(
        b, l, math::LogOp::create(b, arith::AddFOp::create(b, ea, eb)));
    body(lse, math::ExpOp::create(b, arith::SubFOp::create(b, la, lse)),
         math::ExpOp::create(b, arith::SubFOp::create(b, lb, lse)));
  });
}

func::FuncOp mlir::ring::cpu::getMergeKernel(KernelCache &cache, MergeOp op) {
  int64_t q0 = op.getRows()[0], qn = op.getRows()[1];
  return getKernelFor(
      cache, op, "ring_cpu_merge", [&](KernelBuilder &b, ValueRange args) {
        Value po = args[0], pl = args[1], ao = args[2], al = args[3];
        auto aoType = cast<MemRefType>(ao.getType());
        int64_t headDim = aoType.getDimSize(3), w = vectorWidthFor(headDim);
        auto rowType = VectorType::get({w}, b.getF32Type());
        forEachRow(b, aoType, qn, [&](Value bi, Value h, Value i) {
          Value row = arith::AddIOp::create(b, i, b.index(q0));
          Value lp = memref::LoadOp::create(b, pl, ValueRange{bi, h, i});
          Value la = memref::LoadOp::create(b, al, ValueRange{bi, h, row});
          emitMergeWeights(b, la, lp, [&](Value lse, Value wa, Value wp) {
            Value waVec = b.splat(w, wa), wpVec = b.splat(w, wp);
            b.forRange(0, headDim, w, [&](Value d) {
              Value a = vector::LoadOp::create(b, rowType, ao,
                                               ValueRange{bi, h, row, d});
              Value p = vector::LoadOp::create(b, rowType, po,
                                               ValueRange{bi, h, i, d});
              Value sum = vector::FMAOp::create(
                  b, p, wpVec, arith::MulFOp::create(b, a, waVec));
              vector::StoreOp::create(b, sum, ao, ValueRange{bi, h, row, d});
            });
            memref::StoreOp::create(b, lse, al, ValueRange{bi, h, row});
          });
        });
      });
}

func::FuncOp mlir::ring::cpu::getBlockScoresKernel(KernelCache &cache,
                                                   BlockScoresOp op) {
  int64_t q0 = op.getQRows()[0], qn = op.getQRows()[1];
  int64_t k0 = op.getKvRows()[0], kn = op.getKvRows()[1];
  return getKernelFor(
      cache, op, "ring_cpu_block_scores", [&](KernelBuilder &b, ValueRange args) {
        Value q = args[0], k = args[1], s = args[2];
        auto qType = cast<MemRefType>(q.getType());
        auto kType = cast<MemRefType>(k.getType());
        int64_t headDim = qType.getDimSize(3), w = vectorWidthFor(headDim);
        int64_t group = qType.getDimSize(1) / kType.getDimSize(1);
        forEachRow(b, qType, qn, [&](Value bi, Value h, Value i) {
          Value qRow = arith::AddIOp::create(b, i, b.index(q0));
          Value hk = arith::DivUIOp::create(b, h, b.index(group));
          b.forRange(0, kn, 1, [&](Value j) {
            Value kRow = arith::AddIOp::create(b, j, b.index(k0));
            SmallVector<Value> acc = b.forRangeIter(
                0, headDim, w, {b.splat(w, b.f32(0.0))},
                [&](Value d, ValueRange a) -> SmallVector<Value> {
                  Value x = b.loadF32(q, {bi, h, qRow, d}, w);
                  Value y = b.loadF32(k, {bi, hk, kRow, d}, w);
                  return {vector::FMAOp::create(b, x, y, a[0])};
                });
            Value dot = vector::ReductionOp::create(
                b, vector::CombiningKind::ADD, acc[0]);
            memref::StoreOp::create(b, dot, s, ValueRange{bi, h, i, j});
          });
        });
      });
}

func::FuncOp mlir::ring::cpu::getBlockSoftmaxVKernel(KernelCache &cache,
                                                     BlockSoftmaxVOp op) {
  int64_t q0 = op.getQRows()[0], qn = op.getQRows()[1];
  int64_t k0 = op.getKvRows()[0], kn = op.getKvRows()[1];
  bool causal = op.getMask() == MaskKind::causal;
  WindowAttr window = op.getWindowAttr();
  Balance layout = op.getLayout();
  int64_t ringSize = op.getRingSize();
  // Padded parts (seq_len): padding rows are masked like the window.
  std::optional<uint64_t> seqLen = op.getSeqLen();
  // Packed documents: a key counts only within the query's document
  // (documentBounds, once per query row), as in the block kernels.
  bool documents = static_cast<bool>(op.getDocuments());
  bool masked = causal || window || seqLen || documents;
  double scale = op.getScale().convertToDouble();
  return getKernelFor(
      cache, op, "ring_cpu_block_softmax_v",
      [&](KernelBuilder &b, ValueRange args) {
        // Operands in ODS order: s v po pl q_owner kv_owner [docs].
        Value s = args[0], v = args[1], po = args[2], pl = args[3];
        Value qOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[4]);
        Value kvOwner = arith::IndexCastOp::create(b, b.getI64Type(), args[5]);
        Value cu = documents ? args[6] : Value();
        auto poType = cast<MemRefType>(po.getType());
        auto vType = cast<MemRefType>(v.getType());
        int64_t headDim = poType.getDimSize(3), w = vectorWidthFor(headDim);
        int64_t localSeq = vType.getDimSize(2);
        int64_t group = poType.getDimSize(1) / vType.getDimSize(1);
        auto rowType = VectorType::get({w}, b.getF32Type());
        Value accRow = memref::AllocaOp::create(
            b, MemRefType::get({headDim}, b.getF32Type()));
        forEachRow(b, poType, qn, [&](Value bi, Value h, Value i) {
          Value hk = arith::DivUIOp::create(b, h, b.index(group));
          Value qPos;
          if (masked)
            qPos = maskPosition(
                b, layout, localSeq, ringSize, seqLen, qOwner,
                arith::IndexCastOp::create(
                    b, b.getI64Type(),
                    arith::AddIOp::create(b, i, b.index(q0))),
                /*isKey=*/false);
          std::pair<Value, Value> document;
          if (documents)
            document = documentBounds(b, cu, qPos);
          // The scaled score of key j, −inf when masked.
          auto score = [&](Value j) -> Value {
            Value x = arith::MulFOp::create(
                b, memref::LoadOp::create(b, s, ValueRange{bi, h, i, j}),
                b.f32(scale));
            if (!masked)
              return x;
            Value kPos = maskPosition(
                b, layout, localSeq, ringSize, seqLen, kvOwner,
                arith::IndexCastOp::create(
                    b, b.getI64Type(),
                    arith::AddIOp::create(b, j, b.index(k0))),
                /*isKey=*/true);
            Value visible = keyVisible(b, qPos, kPos, causal, window,
                                       localSeq * ringSize, seqLen.has_value());
            if (documents)
              visible = visibleInDocument(b, visible, kPos, document);
            return arith::SelectOp::create(b, visible, x, b.negInf());
          };
          Value m = b.forRangeIter(0, kn, 1, {b.negInf()},
                                   [&](Value j, ValueRange acc) -> SmallVector<Value> {
                                     return {arith::MaxNumFOp::create(
                                         b, acc[0], score(j))};
                                   })[0];
          Value any = arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, m,
                                            b.negInf());
          Value zero = b.splat(w, b.f32(0.0));
          b.forRange(0, headDim, w, [&](Value d) {
            vector::StoreOp::create(b, zero, accRow, ValueRange{d});
          });
          Value l = b.forRangeIter(
              0, kn, 1, {b.f32(0.0)},
              [&](Value j, ValueRange acc) -> SmallVector<Value> {
                Value mSafe = arith::SelectOp::create(b, any, m, b.f32(0.0));
                Value x = score(j);
                // The polynomial exp clamps its argument (exp(−inf) is tiny,
                // not 0): masked keys get p = 0 explicitly.
                Value hidden = arith::CmpFOp::create(
                    b, arith::CmpFPredicate::OEQ, x, b.negInf());
                Value p = arith::SelectOp::create(
                    b, hidden, b.f32(0.0),
                    math::ExpOp::create(b, arith::SubFOp::create(b, x, mSafe)));
                Value pv = b.splat(w, p);
                Value vRow = arith::AddIOp::create(b, j, b.index(k0));
                auto accumulate = [&] {
                  b.forRange(0, headDim, w, [&](Value d) {
                    Value a = vector::LoadOp::create(b, rowType, accRow,
                                                     ValueRange{d});
                    Value vx = b.loadF32(v, {bi, hk, vRow, d}, w);
                    vector::StoreOp::create(
                        b, vector::FMAOp::create(b, pv, vx, a), accRow,
                        ValueRange{d});
                  });
                };
                // A masked key adds nothing; skipping it also keeps a
                // padding row of V, which may hold anything (0·NaN = NaN),
                // out of the sum.
                if (masked)
                  b.ifThen(arith::CmpFOp::create(b, arith::CmpFPredicate::ONE,
                                                 x, b.negInf()),
                           accumulate);
                else
                  accumulate();
                return {arith::AddFOp::create(b, acc[0], p)};
              })[0];
          Value valid =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, l, b.f32(0.0));
          Value inv = arith::SelectOp::create(
              b, valid, arith::DivFOp::create(b, b.f32(1.0), l), b.f32(0.0));
          Value invVec = b.splat(w, inv);
          b.forRange(0, headDim, w, [&](Value d) {
            Value a = vector::LoadOp::create(b, rowType, accRow, ValueRange{d});
            vector::StoreOp::create(b, arith::MulFOp::create(b, a, invVec), po,
                                    ValueRange{bi, h, i, d});
          });
          Value lse = arith::SelectOp::create(
              b, valid, arith::AddFOp::create(b, m, math::LogOp::create(b, l)),
              b.negInf());
          memref::StoreOp::create(b, lse, pl, ValueRange{bi, h, i});
        });
      });
}
