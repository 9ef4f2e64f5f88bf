//===- GemmKernels.cpp - CPU kernels of the layer's projections -*- C++ -*-===//
//
// This file implements the scf/vector GEMM kernels of the whole layer. Both
// projections are C[m, n] = Σ_k A(m, k) · B[k, n] with B a row-major
// weight matrix, and differ only in where A is read and C written:
//
//   ring.project:     A(l, c) = X[b, l, c],            B = W [d_model, H·Dl],
//                     C(l, h·Dl + d) → out[b, h, l, d] (Q/K/V in the
//                     attention kernels' layout, + bias, rounded);
//   ring.out_project: A(l, h·Dl + d) = O[b, h, l, d], B = W_o [H·Dl, d_model],
//                     C(l, c) → partial[b, l, c] (fp32).
//
// so one register-blocked emitter serves both: a kGemmRowTile × (NV · w)
// tile of fp32 accumulators (NV vectors of w lanes) lives in registers
// across the whole k loop; each step loads NV vectors of one B row and
// broadcasts kGemmRowTile scalars of A. Column tiles are the outer loop, so
// the B panel (K × NV·w) stays in cache while every row tile streams by.
// bf16/f16 operands are widened to fp32; accumulation is fp32. Rows that do
// not fill a tile run a one-row tile.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/GemmKernels.h"
#include "codegen/cpu/BlockKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

namespace {

/// The problem of one GEMM call, per batch element.
struct GemmShape {
  int64_t rows;       ///< M
  int64_t kOuter = 1; ///< K = kOuter · kInner, k = k1 · kInner + k2
  int64_t kInner;
  int64_t cols;       ///< N, a multiple of lanes
  int64_t lanes;      ///< w
};

/// Emits C = A · B for one batch element (see the file comment).
/// `loadA(m, k1, k2)` returns A(m, k1·kInner + k2) as an f32 scalar; B is
/// the 2-d weight memref; `storeC(m, n0, acc)` writes the f32 vector of
/// columns [n0, n0 + lanes) of row m.
void emitRegisterBlockedGemm(
    KernelBuilder &b, const GemmShape &g, Value weight,
    function_ref<Value(Value, Value, Value)> loadA,
    function_ref<void(Value, Value, Value)> storeC) {
  int64_t w = g.lanes;
  int64_t vectors = g.cols / w;
  int64_t nv = vectors % 2 == 0 ? 2 : 1;
  Value zero = b.splat(w, b.f32(0.0));
  // One tile of `tileRows` rows at row m0 and columns [n0, n0 + nv·w).
  auto tile = [&](Value m0, int64_t tileRows, Value n0) {
    SmallVector<Value> rowsIdx, colsIdx;
    for (int64_t r = 0; r < tileRows; ++r)
      rowsIdx.push_back(arith::AddIOp::create(b, m0, b.index(r)));
    for (int64_t j = 0; j < nv; ++j)
      colsIdx.push_back(arith::AddIOp::create(b, n0, b.index(j * w)));
    SmallVector<Value> init(tileRows * nv, zero);
    SmallVector<Value> acc = b.forRangeIter(
        0, g.kOuter, 1, init,
        [&](Value k1, ValueRange outer) -> SmallVector<Value> {
          Value rowBase = arith::MulIOp::create(b, k1, b.index(g.kInner));
          return b.forRangeIter(
              0, g.kInner, 1, outer,
              [&](Value k2, ValueRange a) -> SmallVector<Value> {
                Value k = arith::AddIOp::create(b, rowBase, k2);
                SmallVector<Value> bv;
                for (int64_t j = 0; j < nv; ++j)
                  bv.push_back(b.loadF32(weight, {k, colsIdx[j]}, w));
                SmallVector<Value> next(a.begin(), a.end());
                for (int64_t r = 0; r < tileRows; ++r) {
                  Value av = b.splat(w, loadA(rowsIdx[r], k1, k2));
                  for (int64_t j = 0; j < nv; ++j)
                    next[r * nv + j] = vector::FMAOp::create(
                        b, av, bv[j], next[r * nv + j]);
                }
                return next;
              });
        });
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t j = 0; j < nv; ++j)
        storeC(rowsIdx[r], colsIdx[j], acc[r * nv + j]);
  };
  int64_t fullRows = g.rows - g.rows % kGemmRowTile;
  b.forRange(0, g.cols, nv * w, [&](Value n0) {
    if (fullRows > 0)
      b.forRange(0, fullRows, kGemmRowTile,
                 [&](Value m0) { tile(m0, kGemmRowTile, n0); });
    if (fullRows < g.rows)
      b.forRange(fullRows, g.rows, 1, [&](Value m) { tile(m, 1, n0); });
  });
}

/// The vector width of a GEMM whose column tiles must not straddle blocks
/// of `block` columns.
int64_t gemmLanes(int64_t block) {
  return std::min(kGemmMaxLanes, vectorWidthFor(block));
}

} // namespace

func::FuncOp mlir::ring::cpu::getProjectKernel(KernelCache &cache,
                                               ProjectOp op) {
  bool hasBias = static_cast<bool>(op.getBias());
  return getKernelFor(
      cache, op, "ring_cpu_project", [&](KernelBuilder &b, ValueRange args) {
        Value x = args[0], w = args[1], out = args.back();
        Value bias = hasBias ? args[2] : Value();
        auto outType = cast<MemRefType>(out.getType());
        int64_t headDim = outType.getDimSize(3);
        GemmShape g;
        g.rows = outType.getDimSize(2);
        g.kInner = cast<MemRefType>(x.getType()).getDimSize(2);
        g.cols = outType.getDimSize(1) * headDim;
        // A vector of columns stays inside one head.
        g.lanes = gemmLanes(headDim);
        Type elt = outType.getElementType();
        b.forRange(0, outType.getDimSize(0), 1, [&](Value bi) {
          emitRegisterBlockedGemm(
              b, g, w,
              [&](Value m, Value, Value k) {
                return b.loadScalarF32(x, {bi, m, k});
              },
              [&](Value m, Value n, Value acc) {
                if (bias)
                  acc = arith::AddFOp::create(b, acc,
                                              b.loadF32(bias, {n}, g.lanes));
                Value h = arith::DivUIOp::create(b, n, b.index(headDim));
                Value d = arith::RemUIOp::create(b, n, b.index(headDim));
                vector::StoreOp::create(b, b.narrow(acc, elt), out,
                                        ValueRange{bi, h, m, d});
              });
        });
      });
}

func::FuncOp mlir::ring::cpu::getOutProjectKernel(KernelCache &cache,
                                                  OutProjectOp op) {
  return getKernelFor(
      cache, op, "ring_cpu_out_project", [&](KernelBuilder &b, ValueRange args) {
        Value o = args[0], w = args[1], part = args[2];
        auto oType = cast<MemRefType>(o.getType());
        auto pType = cast<MemRefType>(part.getType());
        GemmShape g;
        g.rows = oType.getDimSize(2);
        g.kOuter = oType.getDimSize(1);
        g.kInner = oType.getDimSize(3);
        g.cols = pType.getDimSize(2);
        g.lanes = gemmLanes(g.cols);
        b.forRange(0, oType.getDimSize(0), 1, [&](Value bi) {
          emitRegisterBlockedGemm(
              b, g, w,
              [&](Value m, Value h, Value d) {
                return b.loadScalarF32(o, {bi, h, m, d});
              },
              [&](Value m, Value n, Value acc) {
                vector::StoreOp::create(b, acc, part, ValueRange{bi, m, n});
              });
        });
      });
}

func::FuncOp mlir::ring::cpu::getOutputFinishKernel(KernelCache &cache,
                                                    OutputAllReduceOp op) {
  bool hasBias = static_cast<bool>(op.getBias());
  return getKernelFor(
      cache, op, "ring_cpu_output_finish", [&](KernelBuilder &b, ValueRange args) {
        Value part = args[0], y = args.back();
        Value bias = hasBias ? args[1] : Value();
        auto type = cast<MemRefType>(part.getType());
        int64_t dm = type.getDimSize(2), w = vectorWidthFor(dm);
        Type elt = cast<MemRefType>(y.getType()).getElementType();
        auto vecType = VectorType::get({w}, b.getF32Type());
        b.forRange(0, type.getDimSize(0), 1, [&](Value bi) {
          b.forRange(0, type.getDimSize(1), 1, [&](Value l) {
            b.forRange(0, dm, w, [&](Value c) {
              Value v = vector::LoadOp::create(b, vecType, part,
                                               ValueRange{bi, l, c});
              if (bias)
                v = arith::AddFOp::create(b, v, b.loadF32(bias, {c}, w));
              vector::StoreOp::create(b, b.narrow(v, elt), y,
                                      ValueRange{bi, l, c});
            });
          });
        });
      });
}

func::FuncOp
mlir::ring::cpu::getOutputScatterFinishKernel(KernelCache &cache,
                                              OutputReduceScatterOp op) {
  bool hasBias = static_cast<bool>(op.getBias());
  Builder tb(op.getContext());
  SmallVector<Type> inputs(op->getOperandTypes());
  inputs.append({tb.getIndexType(), tb.getIndexType()});
  return cache.getOrCreate(
      "ring_cpu_output_scatter_finish", variantKey(op),
      tb.getFunctionType(inputs, {}), [&](KernelBuilder &b, func::FuncOp fn) {
        ValueRange args = fn.getArguments();
        // (partial, [bias], y, first row of the share, its rows).
        Value part = args[0], y = args[hasBias ? 2 : 1];
        Value bias = hasBias ? args[1] : Value();
        Value offset = args[args.size() - 2], rows = args.back();
        auto yType = cast<MemRefType>(y.getType());
        int64_t dm = yType.getDimSize(2), w = vectorWidthFor(dm);
        Type elt = yType.getElementType();
        auto vecType = VectorType::get({w}, b.getF32Type());
        Value one = b.index(1);
        b.forRange(0, yType.getDimSize(0), 1, [&](Value bi) {
          // The share: Y row l = partial row offset + l, + b_o, rounded.
          b.forRange(b.index(0), rows, one, [&](Value l) {
            Value src = arith::AddIOp::create(b, offset, l);
            b.forRange(0, dm, w, [&](Value c) {
              Value v = vector::LoadOp::create(b, vecType, part,
                                               ValueRange{bi, src, c});
              if (bias)
                v = arith::AddFOp::create(b, v, b.loadF32(bias, {c}, w));
              vector::StoreOp::create(b, b.narrow(v, elt), y,
                                      ValueRange{bi, l, c});
            });
          });
          // Rows past the share (a smaller share than the buffer's rows).
          Value zero = b.narrow(b.splat(w, b.f32(0.0)), elt);
          b.forRange(rows, b.index(yType.getDimSize(1)), one, [&](Value l) {
            b.forRange(0, dm, w, [&](Value c) {
              vector::StoreOp::create(b, zero, y, ValueRange{bi, l, c});
            });
          });
        });
      });
}
