//===- RingGradOps.cpp - verifiers of the backward-pass ops -----*- C++ -*-===//
//
// This file implements the verifiers of the ops in RingGradOps.td: shapes
// that agree with the query and key/value buffers, and in-bounds row ranges.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingOps.h"
#include "dialect/AttentionPlan.h"

using namespace mlir;
using namespace mlir::ring;

static std::string shapeOf(MemRefType t) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(t.getShape()))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

LogicalResult GradDeltaOp::verify() {
  auto o = cast<MemRefType>(getOutput().getType());
  auto d = cast<MemRefType>(getDelta().getType());
  if (o.getShape() != cast<MemRefType>(getGradOutput().getType()).getShape())
    return emitOpError("output and grad_output must have the same shape");
  if (o.getRank() != 4 || d.getShape() != o.getShape().drop_back())
    return emitOpError() << "delta must be the rows of output "
                         << shapeOf(o) << " without head_dim, got "
                         << shapeOf(d);
  return success();
}

LogicalResult LocalAttentionBackwardOp::verify() {
  return verifyDocuments(*this, getDocuments(),
                         AttentionPlan::fromAttr(getPlan()).maxDocs);
}

LogicalResult BlockAttentionBackwardOp::verify() {
  auto q = cast<MemRefType>(getQuery().getType());
  auto k = cast<MemRefType>(getKey().getType());
  if (q.getRank() != 4 || k.getRank() != 4)
    return emitOpError("query and key/value buffers must be 4-d [B, H, L, D]");
  if (k != getValue().getType())
    return emitOpError("key and value buffers must have the same type");
  if (q.getShape() != cast<MemRefType>(getGradOutput().getType()).getShape())
    return emitOpError("grad_output must have the shape of query");
  if (q.getDimSize(0) != k.getDimSize(0) || q.getDimSize(3) != k.getDimSize(3) ||
      q.getDimSize(1) % k.getDimSize(1) != 0)
    return emitOpError() << "query " << shapeOf(q) << " and key " << shapeOf(k)
                         << " need equal batch and head_dim, and query heads "
                            "a multiple of key/value heads";
  auto range = [&](StringRef name, ArrayRef<int64_t> r,
                   int64_t extent) -> LogicalResult {
    if (r[0] < 0 || r[1] < 1 || r[0] + r[1] > extent)
      return emitOpError() << name << " = [" << r[0] << ", " << r[1]
                           << "] is outside the buffer's " << extent << " rows";
    return success();
  };
  if (failed(range("q_rows", getQRows(), q.getDimSize(2))) ||
      failed(range("kv_rows", getKvRows(), k.getDimSize(2))))
    return failure();
  auto rows = q.getShape().drop_back();
  for (Value v : {getLse(), getDelta()})
    if (cast<MemRefType>(v.getType()).getShape() != rows)
      return emitOpError("lse and delta must be [B, H, L] of the query");
  if (cast<MemRefType>(getGradQuery().getType()).getShape() != q.getShape() ||
      cast<MemRefType>(getGradKey().getType()).getShape() != k.getShape() ||
      cast<MemRefType>(getGradValue().getType()).getShape() != k.getShape())
    return emitOpError("grad_query must have the shape of query, grad_key "
                       "and grad_value the shape of key");
  if (failed(verifyDocuments(*this, getDocuments())))
    return failure();
  if (static_cast<bool>(getScores()) != static_cast<bool>(getScoreGrad()))
    return emitOpError("scores and score_grad come together");
  if (getScores()) {
    SmallVector<int64_t> want = {q.getDimSize(0), q.getDimSize(1),
                                 getQRows()[1], getKvRows()[1]};
    for (Value v : {getScores(), getScoreGrad()})
      if (cast<MemRefType>(v.getType()).getShape() != ArrayRef<int64_t>(want))
        return emitOpError() << "scores and score_grad must be [" << want[0]
                             << ", " << want[1] << ", " << want[2] << ", "
                             << want[3] << "]";
  }
  if (getRingSize() < 1 || getScale().convertToDouble() <= 0)
    return emitOpError("ring_size must be >= 1 and scale > 0");
  return verifySeqLen(getSeqLen(), getLayout(), getRingSize(), k.getDimSize(2),
                      [&] { return emitOpError(); });
}

LogicalResult AccumulateOp::verify() {
  if (cast<MemRefType>(getSource().getType()).getShape() !=
      cast<MemRefType>(getAccumulator().getType()).getShape())
    return emitOpError("source and accumulator must have the same shape");
  return success();
}

LogicalResult ConvertOp::verify() {
  if (cast<MemRefType>(getSource().getType()).getShape() !=
      cast<MemRefType>(getDest().getType()).getShape())
    return emitOpError("source and dest must have the same shape");
  return success();
}

int64_t SumReplicasOp::getReplicas() {
  int64_t hd = cast<MemRefType>(getDest().getType()).getDimSize(1);
  return hd > 0 ? cast<MemRefType>(getSource().getType()).getDimSize(1) / hd
                : 0;
}

LogicalResult SumReplicasOp::verify() {
  auto s = cast<MemRefType>(getSource().getType());
  auto d = cast<MemRefType>(getDest().getType());
  if (s.getElementType() != d.getElementType())
    return emitOpError() << "sums " << s.getElementType() << " replicas into "
                         << d.getElementType()
                         << "; source and dest need the same element type";
  if (s.getRank() != 4 || d.getRank() != 4 || !s.hasStaticShape() ||
      !d.hasStaticShape() || s.getDimSize(0) != d.getDimSize(0) ||
      s.getDimSize(2) != d.getDimSize(2) ||
      s.getDimSize(3) != d.getDimSize(3) || d.getDimSize(1) < 1 ||
      s.getDimSize(1) % d.getDimSize(1) != 0)
    return emitOpError() << "source " << shapeOf(s) << " and dest "
                         << shapeOf(d)
                         << " must be static [B, H, S, D] with equal B, S and "
                            "D, and source heads a multiple of dest heads";
  return success();
}
