//===- RingOps.cpp - operations of the ring dialect -------------*- C++ -*-===//
//
// This file implements the verifiers and helpers of the `ring` operations.
// Rules that ODS can express (ranks, element types, equal element types) are
// constraints in RingOps.td; the shape relations between Q, K, V and the
// results are checked here.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingOps.h"
#include "dialect/AttentionPlan.h"
// Header-only maps shared with ringrt and ring-run.
#include "runtime/include/ringrt/Layout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

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
                         << q[1] << " query heads: " << divisorsHint(q[1], q[1]);

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

  if (std::optional<int64_t> n = getMaxDocs())
    if (failed(verifyMaxDocs(*n, [&] { return emitOpError(); })))
      return failure();
  if (auto s = getScale())
    return verifyScale(s->convertToDouble(), q[3],
                       [&] { return emitOpError(); });
  return success();
}

//===----------------------------------------------------------------------===//
// Per-rank ops
//===----------------------------------------------------------------------===//

LogicalResult mlir::ring::verifyDocuments(Operation *op, Value documents,
                                          std::optional<int64_t> maxDocs) {
  if (!documents) {
    if (maxDocs && *maxDocs > 0)
      return op->emitOpError()
             << "the plan packs up to " << *maxDocs
             << " documents (max_docs) but the op has no docs(cu_seqlens) "
                "operand; the kernels need the boundaries";
    return success();
  }
  auto t = cast<MemRefType>(documents.getType());
  if (!t.hasStaticShape() || t.getDimSize(0) < 2 ||
      !t.getLayout().isIdentity())
    return op->emitOpError()
           << "docs must be a dense memref of N + 1 >= 2 int32 document "
              "boundaries (cu_seqlens), got "
           << t;
  if (maxDocs && t.getDimSize(0) != *maxDocs + 1)
    return op->emitOpError()
           << "docs " << t << " must hold max_docs + 1 = " << *maxDocs + 1
           << " boundaries"
           << (*maxDocs == 0 ? " (the plan has no max_docs: drop the operand)"
                             : "");
  return success();
}

LogicalResult StageOp::verify() {
  // I64Attr getters are unsigned; the attribute itself is signed.
  int64_t index = getIndexAttr().getInt();
  if (index < 0)
    return emitOpError() << "stage index must be non-negative, got "
                         << index;
  return success();
}

/// Checks that every memref operand has a static shape with sizes >= 1
/// whose byte size fits 64 bits, so that passes may multiply shapes freely.
static LogicalResult verifyBuffers(Operation *op) {
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    auto t = dyn_cast<MemRefType>(v.getType());
    if (!t)
      continue;
    if (!t.hasStaticShape() ||
        llvm::any_of(t.getShape(), [](int64_t d) { return d < 1; }))
      return op->emitOpError()
             << "operand #" << i << " has type " << t
             << "; ring ops take static buffers with every size >= 1";
    if (!checkedProduct(t.getShape(),
                        std::max<int64_t>(1, t.getElementTypeBitWidth() / 8)))
      return op->emitOpError()
             << "operand #" << i << " of shape " << shapeStr(t.getShape())
             << " is too large: its byte size overflows 64 bits";
  }
  return success();
}

/// Checks that `range` = [start, size] lies inside [0, extent).
static LogicalResult verifyRange(Operation *op, StringRef name,
                                 ArrayRef<int64_t> range, int64_t extent) {
  std::optional<int64_t> end = llvm::checkedAdd(range[0], range[1]);
  if (!end)
    return op->emitOpError()
           << name << " = [" << range[0] << ", " << range[1]
           << "]: start + size overflows 64 bits; the buffer has " << extent
           << " rows";
  if (range[0] < 0 || range[1] < 1 || *end > extent)
    return op->emitOpError()
           << name << " = [" << range[0] << ", " << range[1]
           << "] selects rows [" << range[0] << ", " << *end
           << ") but the buffer has " << extent << " rows";
  return success();
}

/// Checks the ring_size of the block ops against the rank limit.
static LogicalResult verifyRingSize(Operation *op, int64_t ringSize) {
  if (ringSize < 1 || ringSize > kMaxRanks)
    return op->emitOpError() << "ring_size " << ringSize
                             << " is outside [1, " << kMaxRanks << "]";
  return success();
}

/// The checks shared by the fused and the split block ops: ranges in
/// bounds, GQA head mapping, and partial buffers that hold q_rows rows.
static LogicalResult verifyBlockShapes(Operation *op, MemRefType q,
                                       MemRefType kv, ArrayRef<int64_t> qRows,
                                       ArrayRef<int64_t> kvRows) {
  if (failed(verifyBuffers(op)))
    return failure();
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
  if (failed(verifyScale(scale, q.getDimSize(3),
                         [&] { return op->emitOpError(); })))
    return failure();
  return success();
}

LogicalResult BlockAttentionOp::verify() {
  if (failed(verifyAttentionInputs(*this, getQuery(), getKey(), getValue(),
                                   getQRows(), getKvRows(),
                                   getScale().convertToDouble())) ||
      failed(verifyRingSize(*this, getRingSizeAttr().getInt())) ||
      failed(verifySeqLen(getSeqLen(), getLayout(), getRingSize(),
                          cast<MemRefType>(getKey().getType()).getDimSize(2),
                          [&] { return emitOpError(); })))
    return failure();
  if (failed(verifyDocuments(*this, getDocuments())))
    return failure();
  auto q = cast<MemRefType>(getQuery().getType());
  return verifyPartials(*this, q, getQRows(), q.getDimSize(3),
                        cast<MemRefType>(getPartialOutput().getType()),
                        cast<MemRefType>(getPartialLse().getType()));
}

LogicalResult BlockAttentionAccumulateOp::verify() {
  if (failed(verifyAttentionInputs(*this, getQuery(), getKey(), getValue(),
                                   getQRows(), getKvRows(),
                                   getScale().convertToDouble())) ||
      failed(verifyRingSize(*this, getRingSizeAttr().getInt())) ||
      failed(verifySeqLen(getSeqLen(), getLayout(), getRingSize(),
                          cast<MemRefType>(getKey().getType()).getDimSize(2),
                          [&] { return emitOpError(); })))
    return failure();
  if (failed(verifyDocuments(*this, getDocuments())))
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
  if (q.getDimSize(3) != k.getDimSize(3))
    return emitOpError() << "head_dim of query (" << q.getDimSize(3)
                         << ") and key (" << k.getDimSize(3) << ") differ";
  auto s = cast<MemRefType>(getScores().getType());
  SmallVector<int64_t> expected = {q.getDimSize(0), q.getDimSize(1),
                                   getQRows()[1], getKvRows()[1]};
  if (s.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "scores must be " << shapeStr(expected)
                         << ", got " << shapeStr(s.getShape());
  return success();
}

LogicalResult BlockSoftmaxVOp::verify() {
  if (failed(verifyBuffers(*this)))
    return failure();
  auto s = cast<MemRefType>(getScores().getType());
  auto v = cast<MemRefType>(getValue().getType());
  if (s.getRank() != 4 || v.getRank() != 4)
    return emitOpError("scores and value buffers must be 4-d");
  // The query rows only name positions (the scores hold them); the key rows
  // index the V block.
  if (failed(verifyRange(*this, "q_rows", getQRows(),
                         std::numeric_limits<int64_t>::max())) ||
      failed(verifyRange(*this, "kv_rows", getKvRows(), v.getDimSize(2))))
    return failure();
  SmallVector<int64_t> expected = {s.getDimSize(0), s.getDimSize(1),
                                   getQRows()[1], getKvRows()[1]};
  if (s.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "scores must be " << shapeStr(expected)
                         << " (batch, heads, q_rows size, kv_rows size), got "
                         << shapeStr(s.getShape());
  if (s.getDimSize(0) != v.getDimSize(0) ||
      s.getDimSize(1) % v.getDimSize(1) != 0)
    return emitOpError() << "score heads (" << s.getDimSize(1)
                         << ") must be a multiple of value heads ("
                         << v.getDimSize(1) << ") with equal batch";
  if (failed(verifyRingSize(*this, getRingSizeAttr().getInt())) ||
      failed(verifyScale(getScale().convertToDouble(), v.getDimSize(3),
                         [&] { return emitOpError(); })) ||
      failed(verifySeqLen(getSeqLen(), getLayout(), getRingSize(),
                          v.getDimSize(2), [&] { return emitOpError(); })) ||
      failed(verifyDocuments(*this, getDocuments())))
    return failure();
  auto po = cast<MemRefType>(getPartialOutput().getType());
  auto pl = cast<MemRefType>(getPartialLse().getType());
  if (po.getRank() != 4 || pl.getRank() != 3 ||
      po.getDimSize(0) != s.getDimSize(0) ||
      po.getDimSize(1) != s.getDimSize(1) || po.getDimSize(2) < getQRows()[1] ||
      po.getDimSize(3) != v.getDimSize(3) || pl.getDimSize(0) != s.getDimSize(0) ||
      pl.getDimSize(1) != s.getDimSize(1) || pl.getDimSize(2) < getQRows()[1])
    return emitOpError() << "partial output must be [" << s.getDimSize(0)
                         << ", " << s.getDimSize(1) << ", >=" << getQRows()[1]
                         << ", " << v.getDimSize(3) << "] and partial lse ["
                         << s.getDimSize(0) << ", " << s.getDimSize(1)
                         << ", >=" << getQRows()[1] << "]";
  return success();
}

/// An accumulator pair: O [B, H, L, D] and LSE [B, H, L].
static LogicalResult verifyOLsePair(Operation *op, StringRef what,
                                    MemRefType o, MemRefType lse) {
  if (o.getRank() != 4 || lse.getRank() != 3 ||
      o.getShape().take_front(3) != lse.getShape())
    return op->emitOpError()
           << what << " must be O [B, H, L, D] and LSE [B, H, L], got "
           << shapeStr(o.getShape()) << " and " << shapeStr(lse.getShape());
  return success();
}

LogicalResult FillPartialOp::verify() {
  if (failed(verifyBuffers(*this)))
    return failure();
  return verifyOLsePair(*this, "the accumulator",
                        cast<MemRefType>(getOutput().getType()),
                        cast<MemRefType>(getLse().getType()));
}

LogicalResult MergeOp::verify() {
  if (failed(verifyBuffers(*this)))
    return failure();
  auto po = cast<MemRefType>(getPartialOutput().getType());
  auto pl = cast<MemRefType>(getPartialLse().getType());
  auto ao = cast<MemRefType>(getAccOutput().getType());
  auto al = cast<MemRefType>(getAccLse().getType());
  if (failed(verifyOLsePair(*this, "the partial", po, pl)) ||
      failed(verifyOLsePair(*this, "the accumulator", ao, al)))
    return failure();
  if (po.getDimSize(0) != ao.getDimSize(0) ||
      po.getDimSize(1) != ao.getDimSize(1) ||
      po.getDimSize(3) != ao.getDimSize(3))
    return emitOpError() << "partial " << shapeStr(po.getShape())
                         << " and accumulator " << shapeStr(ao.getShape())
                         << " differ in batch, heads or head_dim";
  if (failed(verifyRange(*this, "rows", getRows(), ao.getDimSize(2))))
    return failure();
  if (getRows()[1] > po.getDimSize(2))
    return emitOpError() << "rows = [" << getRows()[0] << ", "
                         << getRows()[1] << "] needs " << getRows()[1]
                         << " partial rows but the partial has "
                         << po.getDimSize(2);
  return success();
}

LogicalResult FinalizeOp::verify() {
  if (failed(verifyBuffers(*this)))
    return failure();
  auto ao = cast<MemRefType>(getAccOutput().getType());
  auto al = cast<MemRefType>(getAccLse().getType());
  auto o = cast<MemRefType>(getOutput().getType());
  auto l = cast<MemRefType>(getLse().getType());
  if (failed(verifyOLsePair(*this, "the accumulator", ao, al)))
    return failure();
  if (ao.getShape() != o.getShape() || al.getShape() != l.getShape())
    return emitOpError() << "the accumulator " << shapeStr(ao.getShape())
                         << "/" << shapeStr(al.getShape())
                         << " and the outputs " << shapeStr(o.getShape())
                         << "/" << shapeStr(l.getShape())
                         << " must have equal shapes";
  return success();
}

LogicalResult LocalAttentionOp::verify() {
  if (failed(verifyBuffers(*this)))
    return failure();
  if (getCoords().size() != kNumGridRoles)
    return emitOpError() << "expects " << kNumGridRoles
                         << " coordinates (ring, head group, dim slice), got "
                         << getCoords().size();
  AttentionPlan plan = AttentionPlan::fromAttr(getPlan());
  Type f32 = Float32Type::get(getContext());
  std::pair<Value, std::pair<SmallVector<int64_t>, Type>> want[] = {
      {getQuery(), {plan.localQShape(), plan.elementType}},
      {getKey(), {plan.localKVShape(), plan.elementType}},
      {getValue(), {plan.localKVShape(), plan.elementType}},
      {getOutput(), {plan.localQShape(), plan.elementType}},
      {getLse(), {plan.localLseShape(), f32}}};
  StringRef names[] = {"query", "key", "value", "output", "lse"};
  for (auto [i, w] : llvm::enumerate(want)) {
    auto t = cast<MemRefType>(w.first.getType());
    if (t.getShape() != ArrayRef<int64_t>(w.second.first) ||
        t.getElementType() != w.second.second)
      return emitOpError()
             << names[i] << " buffer " << t
             << " does not match the plan's local buffer "
             << MemRefType::get(w.second.first, w.second.second);
  }
  return verifyDocuments(*this, getDocuments(), plan.maxDocs);
}

/// A transfer moves a whole buffer at a stage >= 0.
static LogicalResult verifyTransfer(Operation *op, int64_t stage) {
  if (failed(verifyBuffers(op)))
    return failure();
  if (stage < 0)
    return op->emitOpError() << "stage must be non-negative, got " << stage;
  return success();
}

LogicalResult ShiftOp::verify() {
  return verifyTransfer(*this, getStageAttr().getInt());
}
LogicalResult ShiftStartOp::verify() {
  return verifyTransfer(*this, getStageAttr().getInt());
}
int64_t AllToAllOp::getA2ADegree() {
  if (std::optional<uint64_t> d = getDegree())
    return static_cast<int64_t>(*d);
  auto s = cast<MemRefType>(getSend().getType()).getShape();
  auto r = cast<MemRefType>(getRecv().getType()).getShape();
  if (s.size() < 3 || r.size() < 3 || s[2] < 1 || r[2] < 1)
    return 0;
  return getMode() == A2AMode::seq_to_heads ? r[2] / s[2] : s[2] / r[2];
}

LogicalResult AllToAllOp::verify() {
  auto s = cast<MemRefType>(getSend().getType());
  auto r = cast<MemRefType>(getRecv().getType());
  if (s.getElementType() != r.getElementType())
    return emitOpError() << "sends " << s.getElementType()
                         << " but receives " << r.getElementType();
  if (s.getRank() != r.getRank() || (s.getRank() != 4 && s.getRank() != 3))
    return emitOpError() << "needs two [B, H, S, D] or two [B, H, S] "
                            "buffers, got "
                         << s << " and " << r;
  if (!s.hasStaticShape() || !r.hasStaticShape())
    return emitOpError() << "needs static shapes";
  if (s.getDimSize(0) != r.getDimSize(0) ||
      (s.getRank() == 4 && s.getDimSize(3) != r.getDimSize(3)))
    return emitOpError() << "buffers " << s << " and " << r
                         << " differ in batch or head_dim";
  // Without `degree`, U is the ratio of the token counts, which must be
  // exact (uneven shares need `degree`).
  int64_t big = getMode() == A2AMode::seq_to_heads ? r.getDimSize(2)
                                                   : s.getDimSize(2);
  int64_t small = getMode() == A2AMode::seq_to_heads ? s.getDimSize(2)
                                                     : r.getDimSize(2);
  if (!getDegree() && big % small != 0)
    return emitOpError() << "buffers " << s << " and " << r
                         << " do not imply the a2a degree (" << big
                         << " tokens are no multiple of " << small
                         << "); give it with `degree U` (uneven shares)";
  int64_t U = getA2ADegree();
  ringrt::layout::A2AShape shape;
  shape.batch = s.getDimSize(0);
  shape.srcHeads = s.getDimSize(1);
  shape.srcSeq = s.getDimSize(2);
  shape.dstHeads = r.getDimSize(1);
  shape.dstSeq = r.getDimSize(2);
  std::string why = ringrt::layout::checkA2A(
      static_cast<ringrt::layout::A2AMode>(getMode()), shape, U);
  if (!why.empty())
    return emitOpError() << "buffers " << s << " and " << r
                         << " are no all-to-all: " << why;
  return success();
}

LogicalResult AllReduceOp::verify() {
  return verifyTransfer(*this, getStageAttr().getInt());
}

LogicalResult ShiftWaitOp::verify() {
  if (!getTransfer().getDefiningOp<ShiftStartOp>())
    return emitOpError("waits for a transfer that no ring.shift_start in "
                       "this function produced");
  return success();
}
