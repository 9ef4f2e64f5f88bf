//===- KernelBuilder.cpp - helpers for building CPU kernels -----*- C++ -*-===//
//
// This file implements the kernel builder helpers, the global-position
// formulas of the sequence layouts and the kernel cache.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelBuilder.h"
#include "codegen/cpu/CpuVariants.h"
#include "dialect/Visibility.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

Value KernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(*this, v);
}

Value KernelBuilder::i64(int64_t v) {
  return arith::ConstantIntOp::create(*this, v, 64);
}

Value KernelBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(*this, v, 32);
}

Value KernelBuilder::f32(double v) {
  return arith::ConstantFloatOp::create(*this, getF32Type(),
                                        APFloat(static_cast<float>(v)));
}

Value KernelBuilder::splat(int64_t lanes, Value scalar) {
  return vector::BroadcastOp::create(
      *this, VectorType::get({lanes}, scalar.getType()), scalar);
}

void KernelBuilder::forRange(Value lb, Value ub, Value step,
                             function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(*this, lb, ub, step);
  InsertionGuard guard(*this);
  setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

void KernelBuilder::forRange(int64_t lb, int64_t ub, int64_t step,
                             function_ref<void(Value)> body) {
  forRange(index(lb), index(ub), index(step), body);
}

SmallVector<Value> KernelBuilder::forRangeIter(
    Value lb, Value ub, Value step, ValueRange init,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(*this, lb, ub, step, init);
  {
    InsertionGuard guard(*this);
    Block *block = loop.getBody();
    setInsertionPointToEnd(block);
    SmallVector<Value> next =
        body(loop.getInductionVar(), loop.getRegionIterArgs());
    scf::YieldOp::create(*this, next);
  }
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> KernelBuilder::forRangeIter(
    int64_t lb, int64_t ub, int64_t step, ValueRange init,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return forRangeIter(index(lb), index(ub), index(step), init, body);
}

void KernelBuilder::ifThen(Value cond, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(*this, cond, /*withElseRegion=*/false);
  InsertionGuard guard(*this);
  setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

SmallVector<Value>
KernelBuilder::ifElse(Value cond, function_ref<SmallVector<Value>()> thenFn,
                      function_ref<SmallVector<Value>()> elseFn) {
  // Build both branches through this builder (so helpers keep working),
  // then create the scf.if with the yielded types.
  auto buildBranch = [&](function_ref<SmallVector<Value>()> fn) {
    return [this, fn](OpBuilder &nested, Location loc) {
      InsertionGuard guard(*this);
      setInsertionPoint(nested.getInsertionBlock(),
                        nested.getInsertionPoint());
      SmallVector<Value> values = fn();
      scf::YieldOp::create(*this, values);
    };
  };
  auto ifOp = scf::IfOp::create(*this, cond, buildBranch(thenFn),
                                buildBranch(elseFn));
  return SmallVector<Value>(ifOp.getResults());
}

static Type elementTypeOf(Value v) { return getElementTypeOrSelf(v.getType()); }

static Type withElementType(Type t, Type elem) {
  if (auto vt = dyn_cast<VectorType>(t))
    return vt.clone(elem);
  return elem;
}

Value KernelBuilder::widen(Value v) {
  if (elementTypeOf(v).isF32())
    return v;
  return arith::ExtFOp::create(*this, withElementType(v.getType(), getF32Type()),
                               v);
}

Value KernelBuilder::narrow(Value v, Type elementType) {
  if (elementType.isF32())
    return v;
  return arith::TruncFOp::create(
      *this, withElementType(v.getType(), elementType), v);
}

Value KernelBuilder::loadF32(Value memref, ValueRange indices, int64_t lanes) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  Value raw = vector::LoadOp::create(*this, VectorType::get({lanes}, elem),
                                     memref, indices);
  return widen(raw);
}

Value KernelBuilder::loadScalarF32(Value memref, ValueRange indices) {
  return widen(memref::LoadOp::create(*this, memref, indices));
}

Value KernelBuilder::flatten(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return memref::CollapseShapeOp::create(*this, memref,
                                         ArrayRef<ReassociationIndices>{all});
}

Value mlir::ring::cpu::globalPosition(KernelBuilder &b, Balance layout,
                                      int64_t localSeq, int64_t ringSize,
                                      Value owner, Value row,
                                      std::optional<uint64_t> seqLen,
                                      Value *valid) {
  if (valid)
    *valid = nullptr;
  using P = arith::CmpIPredicate;
  if (seqLen) {
    // Padded parts (ringrt/Layout.h): part c of `parts` holds L/parts
    // tokens, one more if c < L % parts, from c·(L/parts) + min(c, L % parts).
    int64_t L = static_cast<int64_t>(*seqLen);
    auto part = [&](int64_t parts, Value c, Value off) {
      Value start = arith::AddIOp::create(
          b, arith::MulIOp::create(b, c, b.i64(L / parts)),
          arith::MinSIOp::create(b, c, b.i64(L % parts)));
      Value count = arith::AddIOp::create(
          b, b.i64(L / parts),
          arith::ExtUIOp::create(
              b, b.getI64Type(),
              arith::CmpIOp::create(b, P::slt, c, b.i64(L % parts))));
      if (valid)
        *valid = arith::CmpIOp::create(b, P::slt, off, count);
      return arith::AddIOp::create(b, start, off).getResult();
    };
    switch (layout) {
    case Balance::none:
      return part(ringSize, owner, row);
    case Balance::zigzag: {
      int64_t chunk = localSeq / 2;
      Value inFirst = arith::CmpIOp::create(b, P::slt, row, b.i64(chunk));
      Value c = arith::SelectOp::create(
          b, inFirst, owner,
          arith::SubIOp::create(b, b.i64(2 * ringSize - 1), owner));
      Value off = arith::SelectOp::create(
          b, inFirst, row, arith::SubIOp::create(b, row, b.i64(chunk)));
      return part(2 * ringSize, c, off);
    }
    case Balance::striped: {
      Value pos = arith::AddIOp::create(
          b, arith::MulIOp::create(b, row, b.i64(ringSize)), owner);
      if (valid)
        *valid = arith::CmpIOp::create(b, P::slt, pos, b.i64(L));
      return pos;
    }
    }
    llvm_unreachable("unknown layout");
  }
  switch (layout) {
  case Balance::none:
    return arith::AddIOp::create(
        b, arith::MulIOp::create(b, owner, b.i64(localSeq)), row);
  case Balance::striped:
    return arith::AddIOp::create(
        b, arith::MulIOp::create(b, row, b.i64(ringSize)), owner);
  case Balance::zigzag: {
    int64_t chunk = localSeq / 2;
    Value first = arith::AddIOp::create(
        b, arith::MulIOp::create(b, owner, b.i64(chunk)), row);
    Value mirror = arith::SubIOp::create(b, b.i64(2 * ringSize - 1), owner);
    Value second = arith::AddIOp::create(
        b, arith::MulIOp::create(b, mirror, b.i64(chunk)),
        arith::SubIOp::create(b, row, b.i64(chunk)));
    Value inFirst = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row,
                                          b.i64(chunk));
    return arith::SelectOp::create(b, inFirst, first, second);
  }
  }
  llvm_unreachable("unknown layout");
}

Value mlir::ring::cpu::maskPosition(KernelBuilder &b, Balance layout,
                                    int64_t localSeq, int64_t ringSize,
                                    std::optional<uint64_t> seqLen,
                                    Value owner, Value row, bool isKey) {
  Value valid;
  Value pos = globalPosition(b, layout, localSeq, ringSize, owner, row, seqLen,
                             &valid);
  if (!valid)
    return pos;
  int64_t span = localSeq * ringSize;
  return arith::SelectOp::create(b, valid, pos,
                                 b.i64(isKey ? paddingKeyPosition(span)
                                             : paddingQueryPosition(span)));
}

Value mlir::ring::cpu::keyVisible(KernelBuilder &b, Value qPos, Value kPos,
                                  bool causal, WindowAttr window, int64_t seq,
                                  bool padded) {
  if (!causal && !window && !padded)
    return Value();
  auto [lo, hi] = clampedDiffBounds(causal, window ? window.getLeft() : -1,
                                    window ? window.getRight() : -1, seq);
  // lo <= qPos − kPos <= hi, i.e. qPos − hi <= kPos <= qPos − lo; the lower
  // side also rejects the padding rows' positions (Visibility.h).
  Value visible = arith::CmpIOp::create(
      b, arith::CmpIPredicate::sle, kPos,
      arith::SubIOp::create(b, qPos, b.i64(lo)));
  if (window && window.getLeft() >= 0)
    visible = arith::AndIOp::create(
        b, visible,
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kPos,
                              arith::SubIOp::create(b, qPos, b.i64(hi))));
  return visible;
}

std::pair<Value, Value> mlir::ring::cpu::documentBounds(KernelBuilder &b,
                                                         Value cu,
                                                         Value qPos) {
  int64_t n = cast<MemRefType>(cu.getType()).getDimSize(0) - 1;
  int64_t steps = llvm::Log2_64_Ceil(static_cast<uint64_t>(n)) + 1;
  auto at = [&](Value i) -> Value {
    return arith::ExtSIOp::create(b, b.getI64Type(),
                                  memref::LoadOp::create(b, cu, ValueRange{i}));
  };
  // Invariant for 0 <= qPos < L: cu[lo] <= qPos < cu[hi].
  SmallVector<Value> range = b.forRangeIter(
      0, steps, 1, ValueRange{b.index(0), b.index(n)},
      [&](Value, ValueRange s) -> SmallVector<Value> {
        Value mid = arith::DivUIOp::create(
            b, arith::AddIOp::create(b, s[0], s[1]), b.index(2));
        Value below =
            arith::CmpIOp::create(b, arith::CmpIPredicate::sle, at(mid), qPos);
        return {arith::SelectOp::create(b, below, mid, s[0]),
                arith::SelectOp::create(b, below, s[1], mid)};
      });
  return {at(range[0]), arith::SubIOp::create(b, at(range[1]), b.i64(1))};
}

Value mlir::ring::cpu::visibleInDocument(KernelBuilder &b, Value visible,
                                         Value kPos,
                                         std::pair<Value, Value> document) {
  Value inDoc = arith::AndIOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kPos,
                            document.first),
      arith::CmpIOp::create(b, arith::CmpIPredicate::sle, kPos,
                            document.second));
  return visible ? arith::AndIOp::create(b, visible, inDoc).getResult()
                 : inDoc;
}

SmallVector<Value> mlir::ring::cpu::transposeSquare(KernelBuilder &b,
                                                     ArrayRef<Value> rows) {
  int64_t n = static_cast<int64_t>(rows.size());
  assert(llvm::isPowerOf2_64(n) && "rows must be a power of two");
  SmallVector<Value> m(rows);
  // Round h: rows i (bit h clear) and j = i + h exchange the blocks where
  // the column's bit h differs from the row's: N[i][c] = c & h ? M[j][c − h]
  // : M[i][c], N[j][c] = c & h ? M[j][c] : M[i][c + h].
  for (int64_t h = 1; h < n; h *= 2) {
    SmallVector<int64_t> maskI, maskJ;
    for (int64_t c = 0; c < n; ++c) {
      bool set = c & h;
      maskI.push_back(set ? n + c - h : c);
      maskJ.push_back(set ? n + c : c + h);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (i & h)
        continue;
      Value mi = m[i], mj = m[i + h];
      m[i] = vector::ShuffleOp::create(b, mi, mj, maskI);
      m[i + h] = vector::ShuffleOp::create(b, mi, mj, maskJ);
    }
  }
  return m;
}

int64_t mlir::ring::cpu::vectorWidthFor(int64_t n) {
  for (int64_t w = 16; w > 1; w /= 2)
    if (n % w == 0)
      return w;
  return 1;
}

std::string mlir::ring::cpu::variantKey(Operation *op) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << op->getName() << "(";
  llvm::interleaveComma(op->getOperandTypes(), os);
  os << ")";
  op->getAttrDictionary().print(os);
  return key;
}

func::FuncOp KernelCache::getOrCreate(
    StringRef prefix, StringRef key, FunctionType type,
    function_ref<void(KernelBuilder &, func::FuncOp)> build) {
  auto it = kernels.find(key);
  if (it != kernels.end())
    return it->second;
  std::string base = prefix.str();
  if (variant)
    base += "_" + std::string(variant->name);
  prefix = base;
  std::string name =
      (prefix + "_" + Twine(counters[prefix]++)).str();
  while (SymbolTable::lookupSymbolIn(module, name))
    name = (prefix + "_" + Twine(counters[prefix]++)).str();
  KernelBuilder b(module.getLoc(), module.getContext());
  b.setInsertionPointToStart(module.getBody());
  auto fn = func::FuncOp::create(b, name, type);
  fn.setPrivate();
  if (variant)
    compileForVariant(fn, *variant);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  build(b, fn);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b);
  kernels[key] = fn;
  created.push_back(fn);
  return fn;
}

func::FuncOp KernelCache::declare(StringRef name, FunctionType type) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder b(module.getContext());
  b.setInsertionPointToStart(module.getBody());
  auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}
