//===- RingOps.cpp - operations of the ring dialect -------------*- C++ -*-===//
//
// This file implements the verifiers and helpers of the `ring` operations.
// Rules that ODS can express (ranks, element types, equal element types) are
// constraints in RingOps.td; the shape relations between Q, K, V and the
// results are checked here.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ring;

#define GET_OP_CLASSES
#include "dialect/RingOps.cpp.inc"

/// Prints a static shape as `AxBxC`.
static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

/// Lists the divisors of `n`, for "what would be valid" hints.
static std::string divisorsStr(int64_t n) {
  SmallVector<int64_t> divs;
  for (int64_t d = 1; d <= n && divs.size() < 16; ++d)
    if (n % d == 0)
      divs.push_back(d);
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(divs, os);
  if (divs.size() == 16)
    os << ", ...";
  return s;
}

Balance AttentionOp::getEffectiveBalance() {
  if (auto b = getBalance())
    return *b;
  return isCausal() ? Balance::zigzag : Balance::none;
}

double AttentionOp::getEffectiveScale() {
  if (auto s = getScale())
    return s->convertToDouble();
  int64_t d = getQuery().getType().getDimSize(3);
  return 1.0 / std::sqrt(static_cast<double>(d));
}

LogicalResult AttentionOp::verify() {
  auto qT = getQuery().getType();
  auto kT = getKey().getType();
  auto vT = getValue().getType();
  for (auto [name, t] : {std::pair<StringRef, RankedTensorType>{"query", qT},
                         {"key", kT},
                         {"value", vT}})
    if (!t.hasStaticShape())
      return emitOpError() << name << " has a dynamic shape ("
                           << shapeStr(t.getShape())
                           << "); ringc compiles static [B, H, L, D] shapes "
                              "only";

  ArrayRef<int64_t> q = qT.getShape(), k = kT.getShape(), v = vT.getShape();
  if (k != v)
    return emitOpError() << "key and value must have the same shape, got key "
                         << shapeStr(k) << " and value " << shapeStr(v);
  if (q[0] != k[0])
    return emitOpError() << "batch of query (" << q[0]
                         << ") and key/value (" << k[0] << ") differ";
  if (q[2] != k[2])
    return emitOpError() << "sequence length of query (" << q[2]
                         << ") and key/value (" << k[2]
                         << ") differ; ring attention is self-attention over "
                            "one sequence";
  if (q[3] != k[3])
    return emitOpError() << "head_dim of query (" << q[3]
                         << ") and key/value (" << k[3] << ") differ";
  for (auto [i, name] : llvm::enumerate(
           ArrayRef<StringRef>{"batch", "heads", "sequence length", "head_dim"}))
    if (q[i] < 1 || k[i] < 1)
      return emitOpError() << name << " must be at least 1";
  if (q[1] % k[1] != 0)
    return emitOpError() << "query heads (" << q[1]
                         << ") must be a multiple of key/value heads (" << k[1]
                         << ") for GQA/MQA; valid key/value head counts for "
                         << q[1] << " query heads: " << divisorsStr(q[1]);

  auto oT = getOutput().getType();
  if (oT.getShape() != q)
    return emitOpError() << "output shape " << shapeStr(oT.getShape())
                         << " must equal the query shape " << shapeStr(q);
  SmallVector<int64_t> lseShape = {q[0], q[1], q[2]};
  if (getLse().getType().getShape() != ArrayRef<int64_t>(lseShape))
    return emitOpError() << "lse shape "
                         << shapeStr(getLse().getType().getShape())
                         << " must be [batch, query heads, sequence] = "
                         << shapeStr(lseShape);

  if (auto s = getScale()) {
    double d = s->convertToDouble();
    if (!std::isfinite(d) || d <= 0.0)
      return emitOpError()
             << "scale must be positive and finite, got "
             << llvm::formatv("{0}", llvm::format("%g", d)).str()
             << " (the default is 1/sqrt(head_dim) = "
             << llvm::formatv("{0}", llvm::format(
                                          "%g", 1.0 / std::sqrt(static_cast<double>(q[3]))))
                    .str()
             << ")";
  }
  return success();
}
