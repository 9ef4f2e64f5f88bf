//===- GradKernels.cpp - CPU kernels of the backward-pass ops ---*- C++ -*-===//
//
// This file implements the scf/vector kernels of the backward ops: the
// FlashAttention-2 block backward (P recomputed from LSE; dV += Pᵀ dO;
// dP = dO Vᵀ; dS = P ∘ (dP − D); dQ += dS K · scale; dK += dSᵀ Q · scale),
// D = rowsum(dO ∘ O), zeroing, accumulation and conversion of gradient
// buffers. Vectors run along head_dim with the widest width that divides
// it (no tails); the row and key loops are scalar, so any row range works.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/GradKernels.h"
#include "codegen/cpu/BlockKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

static int64_t numElements(Value memref) {
  return cast<MemRefType>(memref.getType()).getNumElements();
}

func::FuncOp mlir::ring::cpu::getZeroKernel(KernelCache &cache, ZeroOp op) {
  return getKernelFor(cache, op, "ring_cpu_zero",
                      [](KernelBuilder &b, ValueRange args) {
                        fillBuffer(b, args[0], 0.0);
                      });
}

func::FuncOp mlir::ring::cpu::getAccumulateKernel(KernelCache &cache,
                                                  AccumulateOp op) {
  return getKernelFor(
      cache, op, "ring_cpu_accumulate", [](KernelBuilder &b, ValueRange args) {
        Value src = b.flatten(args[0]), acc = b.flatten(args[1]);
        int64_t n = numElements(args[0]), w = vectorWidthFor(n);
        auto type = VectorType::get({w}, b.getF32Type());
        b.forRange(0, n, w, [&](Value i) {
          Value a = vector::LoadOp::create(b, type, acc, ValueRange{i});
          Value x = b.loadF32(src, {i}, w);
          vector::StoreOp::create(b, arith::AddFOp::create(b, a, x), acc,
                                  ValueRange{i});
        });
      });
}

func::FuncOp mlir::ring::cpu::getConvertKernel(KernelCache &cache,
                                               ConvertOp op) {
  return getKernelFor(
      cache, op, "ring_cpu_convert", [](KernelBuilder &b, ValueRange args) {
        Value src = b.flatten(args[0]), dst = b.flatten(args[1]);
        int64_t n = numElements(args[0]), w = vectorWidthFor(n);
        Type elem = cast<MemRefType>(args[1].getType()).getElementType();
        b.forRange(0, n, w, [&](Value i) {
          vector::StoreOp::create(b, b.narrow(b.loadF32(src, {i}, w), elem),
                                  dst, ValueRange{i});
        });
      });
}

func::FuncOp mlir::ring::cpu::getSumReplicasKernel(KernelCache &cache,
                                                   SumReplicasOp op) {
  int64_t replicas = op.getReplicas();
  return getKernelFor(
      cache, op, "ring_cpu_sum_replicas",
      [replicas](KernelBuilder &b, ValueRange args) {
        // Destination head o (of B·Hd) sums source heads o·R .. o·R+R−1,
        // each `inner` = S·D contiguous elements, of which the first
        // rows·D (args[2], the a2a share; all S rows without it) are
        // summed and the rest left untouched.
        Value src = b.flatten(args[0]), dst = b.flatten(args[1]);
        int64_t n = numElements(args[1]);
        auto dt = cast<MemRefType>(args[1].getType());
        int64_t dim = dt.getDimSize(3), inner = dt.getDimSize(2) * dim;
        bool shared = args.size() > 2;
        int64_t w = vectorWidthFor(shared ? dim : inner);
        Value limit =
            shared ? Value(arith::MulIOp::create(b, args[2], b.index(dim)))
                   : b.index(inner);
        Type elem = dt.getElementType();
        b.forRange(0, n / inner, 1, [&](Value o) {
          Value base = arith::MulIOp::create(b, o, b.index(replicas * inner));
          Value out = arith::MulIOp::create(b, o, b.index(inner));
          b.forRange(b.index(0), limit, b.index(w), [&](Value i) {
            Value acc = b.splat(w, b.f32(0.0));
            for (int64_t r = 0; r < replicas; ++r) {
              Value at = arith::AddIOp::create(
                  b, arith::AddIOp::create(b, base, i), b.index(r * inner));
              acc = arith::AddFOp::create(b, acc, b.loadF32(src, {at}, w));
            }
            vector::StoreOp::create(b, b.narrow(acc, elem), dst,
                                    ValueRange{arith::AddIOp::create(b, out, i)});
          });
        });
      });
}

/// Σ_d a[row, d]·b[row', d] over head_dim `dim` in vectors of `w` lanes,
/// unrolled (dim is a compile-time constant).
static Value dotRow(KernelBuilder &b, Value x, ValueRange xIdx, Value y,
                    ValueRange yIdx, int64_t dim, int64_t w) {
  Value acc = b.splat(w, b.f32(0.0));
  for (int64_t d = 0; d < dim; d += w) {
    SmallVector<Value> xi(xIdx), yi(yIdx);
    xi.push_back(b.index(d));
    yi.push_back(b.index(d));
    acc = vector::FMAOp::create(b, b.loadF32(x, xi, w), b.loadF32(y, yi, w),
                                acc);
  }
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc);
}

func::FuncOp mlir::ring::cpu::getGradDeltaKernel(KernelCache &cache,
                                                 GradDeltaOp op) {
  return getKernelFor(
      cache, op, "ring_cpu_grad_delta", [](KernelBuilder &b, ValueRange args) {
        Value o = args[0], dout = args[1], delta = args[2];
        auto type = cast<MemRefType>(o.getType());
        int64_t dim = type.getDimSize(3), w = vectorWidthFor(dim);
        forEachRow(b, type, type.getDimSize(2),
                   [&](Value bi, Value h, Value i) {
                     Value dot = dotRow(b, o, {bi, h, i}, dout, {bi, h, i},
                                        dim, w);
                     memref::StoreOp::create(b, dot, delta,
                                             ValueRange{bi, h, i});
                   });
      });
}

func::FuncOp
mlir::ring::cpu::getBlockAttentionBackwardKernel(KernelCache &cache,
                                                 BlockAttentionBackwardOp op) {
  int64_t q0 = op.getQRows()[0], qn = op.getQRows()[1];
  int64_t k0 = op.getKvRows()[0], kn = op.getKvRows()[1];
  bool causal = op.getMask() == MaskKind::causal;
  WindowAttr window = op.getWindowAttr();
  bool givenScores = static_cast<bool>(op.getScores());
  Balance layout = op.getLayout();
  int64_t ringSize = op.getRingSize();
  // With seq_len (padded parts), padding rows are masked like the window:
  // a padding query row sees no key (whatever LSE it was given), a padding
  // key row is seen by no query (its dK, dV stay 0).
  std::optional<uint64_t> seqLen = op.getSeqLen();
  // Packed documents: a pair counts only within the query's document
  // [first, last] (documentBounds, once per query row).
  bool documents = static_cast<bool>(op.getDocuments());
  bool masked = causal || window || seqLen || documents;
  double scale = op.getScale().convertToDouble();
  Builder types(op.getContext());
  func::FuncOp progress = cache.declare(
      "ringrt_cg_progress", types.getFunctionType({}, {types.getI32Type()}));
  return getKernelFor(
      cache, op, "ring_cpu_block_attention_backward",
      [&](KernelBuilder &b, ValueRange args) {
        // Operands in ODS order: q k v do lse delta [s dp] dq dk dv owners
        // [docs].
        Value q = args[0], k = args[1], v = args[2], dout = args[3];
        Value lse = args[4], delta = args[5];
        unsigned n = givenScores ? 8 : 6;
        Value s = givenScores ? args[6] : Value();
        Value dp = givenScores ? args[7] : Value();
        Value dq = args[n], dk = args[n + 1], dv = args[n + 2];
        Value qOwner =
            arith::IndexCastOp::create(b, b.getI64Type(), args[n + 3]);
        Value kvOwner =
            arith::IndexCastOp::create(b, b.getI64Type(), args[n + 4]);
        Value cu = documents ? args[n + 5] : Value();
        auto qType = cast<MemRefType>(q.getType());
        auto kType = cast<MemRefType>(k.getType());
        int64_t dim = qType.getDimSize(3), w = vectorWidthFor(dim);
        int64_t localSeq = kType.getDimSize(2);
        int64_t group = qType.getDimSize(1) / kType.getDimSize(1);
        int64_t chunks = dim / w;
        auto rowType = VectorType::get({w}, b.getF32Type());
        auto toI64 = [&](Value idx, int64_t off) {
          return arith::IndexCastOp::create(
              b, b.getI64Type(), arith::AddIOp::create(b, idx, b.index(off)));
        };
        forEachRow(b, qType, qn, [&](Value bi, Value h, Value i) {
          Value hk = arith::DivUIOp::create(b, h, b.index(group));
          Value row = arith::AddIOp::create(b, i, b.index(q0));
          Value l = memref::LoadOp::create(b, lse, ValueRange{bi, h, row});
          // A row whose every score is masked (LSE = −inf) has P = 0: it
          // adds nothing, and dQ stays 0.
          Value live =
              arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, l, b.negInf());
          b.ifThen(live, [&] {
            Value dl = memref::LoadOp::create(b, delta, ValueRange{bi, h, row});
            Value qPos;
            std::pair<Value, Value> document;
            if (masked)
              qPos = maskPosition(b, layout, localSeq, ringSize, seqLen,
                                  qOwner, toI64(i, q0), /*isKey=*/false);
            if (documents)
              document = documentBounds(b, cu, qPos);
            SmallVector<Value> zeros(chunks, b.splat(w, b.f32(0.0)));
            // dQ of the row accumulates in registers over the block's keys.
            auto pair = [&](Value j, ValueRange acc) -> SmallVector<Value> {
              Value kRow = arith::AddIOp::create(b, j, b.index(k0));
              Value x, dpv;
              if (givenScores) {
                x = memref::LoadOp::create(b, s, ValueRange{bi, h, i, j});
                dpv = memref::LoadOp::create(b, dp, ValueRange{bi, h, i, j});
              } else {
                x = dotRow(b, q, {bi, h, row}, k, {bi, hk, kRow}, dim, w);
                dpv = dotRow(b, dout, {bi, h, row}, v, {bi, hk, kRow}, dim, w);
              }
              x = arith::MulFOp::create(b, x, b.f32(scale));
              Value p = math::ExpOp::create(b, arith::SubFOp::create(b, x, l));
              Value ds = arith::MulFOp::create(
                  b, arith::MulFOp::create(b, p,
                                           arith::SubFOp::create(b, dpv, dl)),
                  b.f32(scale));
              Value pv = b.splat(w, p), dsv = b.splat(w, ds);
              SmallVector<Value> next;
              for (int64_t c = 0; c < chunks; ++c) {
                Value d = b.index(c * w);
                SmallVector<Value> kvIdx = {bi, hk, kRow, d};
                SmallVector<Value> qIdx = {bi, h, row, d};
                Value doRow = b.loadF32(dout, qIdx, w);
                Value qRow = b.loadF32(q, qIdx, w);
                Value dvOld = vector::LoadOp::create(b, rowType, dv, kvIdx);
                vector::StoreOp::create(b, vector::FMAOp::create(b, pv, doRow, dvOld),
                                        dv, kvIdx);
                Value dkOld = vector::LoadOp::create(b, rowType, dk, kvIdx);
                vector::StoreOp::create(b, vector::FMAOp::create(b, dsv, qRow, dkOld),
                                        dk, kvIdx);
                next.push_back(vector::FMAOp::create(
                    b, dsv, b.loadF32(k, kvIdx, w), acc[c]));
              }
              return next;
            };
            SmallVector<Value> dqRow = b.forRangeIter(
                0, kn, 1, zeros, [&](Value j, ValueRange acc) {
                  if (!masked)
                    return pair(j, acc);
                  Value kPos = maskPosition(b, layout, localSeq, ringSize,
                                            seqLen, kvOwner, toI64(j, k0),
                                            /*isKey=*/true);
                  Value vis = keyVisible(b, qPos, kPos, causal, window,
                                         localSeq * ringSize,
                                         seqLen.has_value());
                  if (documents)
                    vis = visibleInDocument(b, vis, kPos, document);
                  return b.ifElse(
                      vis, [&] { return pair(j, acc); },
                      [&] { return SmallVector<Value>(acc); });
                });
            for (int64_t c = 0; c < chunks; ++c) {
              SmallVector<Value> idx = {bi, h, row, b.index(c * w)};
              Value old = vector::LoadOp::create(b, rowType, dq, idx);
              vector::StoreOp::create(b, arith::AddFOp::create(b, old, dqRow[c]),
                                      dq, idx);
            }
          });
          // Let the shifts in flight move (codegen_abi.h): once per query
          // row, 8·kn·D FLOPs apart.
          func::CallOp::create(b, progress, ValueRange{});
        });
      });
}
