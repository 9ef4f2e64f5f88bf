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

//===----------------------------------------------------------------------===//
// Per-rank ops
//===----------------------------------------------------------------------===//

LogicalResult StageOp::verify() {
  if (getIndex() < 0)
    return emitOpError() << "stage index must be non-negative, got "
                         << getIndex();
  return success();
}

/// Checks that `range` = [start, size] lies inside [0, extent).
static LogicalResult verifyRange(Operation *op, StringRef name,
                                 ArrayRef<int64_t> range, int64_t extent) {
  if (range[0] < 0 || range[1] < 1 || range[0] + range[1] > extent)
    return op->emitOpError()
           << name << " = [" << range[0] << ", " << range[1]
           << "] selects rows [" << range[0] << ", " << range[0] + range[1]
           << ") but the buffer has " << extent << " rows";
  return success();
}

/// The checks shared by the fused and the split block ops: ranges in
/// bounds, GQA head mapping, and partial buffers that hold q_rows rows.
static LogicalResult verifyBlockShapes(Operation *op, MemRefType q,
                                       MemRefType kv, ArrayRef<int64_t> qRows,
                                       ArrayRef<int64_t> kvRows) {
  if (q.getRank() != 4 || kv.getRank() != 4)
    return op->emitOpError() << "query and key/value buffers must be 4-d "
                                "[B, H, L, D]";
  if (failed(verifyRange(op, "q_rows", qRows, q.getDimSize(2))) ||
      failed(verifyRange(op, "kv_rows", kvRows, kv.getDimSize(2))))
    return failure();
  if (q.getDimSize(0) != kv.getDimSize(0) ||
      q.getDimSize(1) % kv.getDimSize(1) != 0)
    return op->emitOpError() << "query heads (" << q.getDimSize(1)
                             << ") must be a multiple of key/value heads ("
                             << kv.getDimSize(1) << ") with equal batch";
  return success();
}

static LogicalResult verifyPartials(Operation *op, MemRefType q,
                                    ArrayRef<int64_t> qRows, int64_t dim,
                                    MemRefType po, MemRefType pl) {
  if (po.getRank() != 4 || pl.getRank() != 3 ||
      po.getDimSize(0) != q.getDimSize(0) ||
      po.getDimSize(1) != q.getDimSize(1) || po.getDimSize(2) < qRows[1] ||
      po.getDimSize(3) != dim || pl.getDimSize(0) != q.getDimSize(0) ||
      pl.getDimSize(1) != q.getDimSize(1) || pl.getDimSize(2) < qRows[1])
    return op->emitOpError()
           << "partial output must be [" << q.getDimSize(0) << ", "
           << q.getDimSize(1) << ", >=" << qRows[1] << ", " << dim
           << "] and partial lse [" << q.getDimSize(0) << ", "
           << q.getDimSize(1) << ", >=" << qRows[1] << "]";
  return success();
}

/// The checks shared by ring.block_attention and its accumulating form:
/// K and V alike, equal head dims, rows in range, GQA heads, scale.
static LogicalResult verifyAttentionInputs(Operation *op, Value query,
                                           Value key, Value value,
                                           ArrayRef<int64_t> qRows,
                                           ArrayRef<int64_t> kvRows,
                                           double scale) {
  auto q = cast<MemRefType>(query.getType());
  auto k = cast<MemRefType>(key.getType());
  if (k != value.getType())
    return op->emitOpError("key and value buffers must have the same type");
  if (q.getRank() == 4 && k.getRank() == 4 &&
      q.getDimSize(3) != k.getDimSize(3))
    return op->emitOpError() << "head_dim of query (" << q.getDimSize(3)
                             << ") and key (" << k.getDimSize(3) << ") differ";
  if (failed(verifyBlockShapes(op, q, k, qRows, kvRows)))
    return failure();
  if (!(scale > 0) || !std::isfinite(scale))
    return op->emitOpError("scale must be positive and finite");
  return success();
}

LogicalResult BlockAttentionOp::verify() {
  if (failed(verifyAttentionInputs(*this, getQuery(), getKey(), getValue(),
                                   getQRows(), getKvRows(),
                                   getScale().convertToDouble())))
    return failure();
  if (getRingSize() < 1)
    return emitOpError("ring_size must be >= 1");
  auto q = cast<MemRefType>(getQuery().getType());
  return verifyPartials(*this, q, getQRows(), q.getDimSize(3),
                        cast<MemRefType>(getPartialOutput().getType()),
                        cast<MemRefType>(getPartialLse().getType()));
}

LogicalResult BlockAttentionAccumulateOp::verify() {
  if (failed(verifyAttentionInputs(*this, getQuery(), getKey(), getValue(),
                                   getQRows(), getKvRows(),
                                   getScale().convertToDouble())))
    return failure();
  // The accumulator row of query row i is row i: the accumulators have the
  // query buffer's [B, H, L] and Q's head_dim.
  auto q = cast<MemRefType>(getQuery().getType());
  auto ao = cast<MemRefType>(getAccOutput().getType());
  auto al = cast<MemRefType>(getAccLse().getType());
  ArrayRef<int64_t> qs = q.getShape();
  SmallVector<int64_t> lseShape(qs.take_front(3));
  if (ao.getShape() != qs || al.getShape() != ArrayRef<int64_t>(lseShape))
    return emitOpError() << "accumulators must be " << shapeStr(qs)
                         << "xf32 and " << shapeStr(lseShape)
                         << "xf32 (the query buffer's rows), got "
                         << shapeStr(ao.getShape()) << " and "
                         << shapeStr(al.getShape());
  for (Value in : {getQuery(), getKey(), getValue()})
    if (in == getAccOutput())
      return emitOpError("the accumulator must not be one of the Q, K, V "
                         "buffers the block reads");
  return success();
}

LogicalResult BlockScoresOp::verify() {
  auto q = cast<MemRefType>(getQuery().getType());
  auto k = cast<MemRefType>(getKey().getType());
  if (failed(verifyBlockShapes(*this, q, k, getQRows(), getKvRows())))
    return failure();
  auto s = cast<MemRefType>(getScores().getType());
  SmallVector<int64_t> expected = {q.getDimSize(0), q.getDimSize(1),
                                   getQRows()[1], getKvRows()[1]};
  if (s.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "scores must be " << shapeStr(expected)
                         << ", got " << shapeStr(s.getShape());
  return success();
}
