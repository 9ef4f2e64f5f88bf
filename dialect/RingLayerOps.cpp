//===- RingLayerOps.cpp - verifiers of the attention-layer ops --*- C++ -*-===//
//
// This file implements the verifiers and helpers of the ops in
// RingLayerOps.td: the shape relations between X, the weights, the biases,
// Y and LSE of ring.attention_layer, and between the per-rank buffers of
// the projection and reduction ops.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "dialect/RingOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ring;

static std::string shapeOf(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s + "]";
}

//===----------------------------------------------------------------------===//
// ring.attention_layer
//===----------------------------------------------------------------------===//

int64_t AttentionLayerOp::getHeadDim() {
  int64_t cols = cast<RankedTensorType>(getWq().getType()).getShape().back();
  int64_t h = getHeads();
  return h > 0 && cols % h == 0 ? cols / h : 0;
}

int64_t AttentionLayerOp::getKvHeads() {
  int64_t d = getHeadDim();
  int64_t cols = cast<RankedTensorType>(getWk().getType()).getShape().back();
  return d > 0 ? cols / d : 0;
}

Balance AttentionLayerOp::getEffectiveBalance() {
  if (auto b = getBalance())
    return *b;
  return isCausal() ? Balance::zigzag : Balance::none;
}

double AttentionLayerOp::getEffectiveScale() {
  if (auto s = getScale())
    return s->convertToDouble();
  int64_t d = std::max<int64_t>(getHeadDim(), 1);
  return 1.0 / std::sqrt(static_cast<double>(d));
}

LogicalResult AttentionLayerOp::verify() {
  auto shape = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  for (auto [name, v] : {std::pair<StringRef, Value>{"x", getX()},
                         {"wq", getWq()}, {"wk", getWk()}, {"wv", getWv()},
                         {"wo", getWo()}, {"y", getY()}, {"lse", getLse()}})
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
      return emitOpError() << name << " must have a static shape, got "
                           << shapeOf(shape(v));
  ArrayRef<int64_t> x = shape(getX()), wq = shape(getWq()),
                    wk = shape(getWk()), wv = shape(getWv()),
                    wo = shape(getWo());
  if (x.size() != 3)
    return emitOpError() << "x must be [B, L, d_model], got " << shapeOf(x);
  for (auto [name, s] : {std::pair<StringRef, ArrayRef<int64_t>>{"wq", wq},
                         {"wk", wk}, {"wv", wv}, {"wo", wo}})
    if (s.size() != 2)
      return emitOpError() << name << " must be a matrix, got " << shapeOf(s);
  int64_t dm = x[2], hq = getHeads();
  if (wq[0] != dm || wk[0] != dm || wv[0] != dm)
    return emitOpError() << "wq, wk and wv must have d_model = " << dm
                         << " rows (x is " << shapeOf(x) << "), got "
                         << shapeOf(wq) << ", " << shapeOf(wk) << ", "
                         << shapeOf(wv);
  if (wq[1] % hq != 0)
    return emitOpError() << "wq has " << wq[1]
                         << " columns, not a multiple of heads = " << hq
                         << " (its columns are heads blocks of head_dim)";
  int64_t d = wq[1] / hq;
  if (wk[1] != wv[1] || wk[1] % d != 0 || wk[1] == 0 || hq % (wk[1] / d) != 0)
    return emitOpError() << "wk and wv must have the same number of columns, "
                            "Hkv blocks of head_dim = "
                         << d << " with Hkv dividing heads = " << hq
                         << "; got " << shapeOf(wk) << " and " << shapeOf(wv);
  if (wo[0] != wq[1] || wo[1] != dm)
    return emitOpError() << "wo must be [heads*head_dim, d_model] = ["
                         << wq[1] << ", " << dm << "], got " << shapeOf(wo);
  if (shape(getY()) != x)
    return emitOpError() << "y must have the shape of x " << shapeOf(x)
                         << ", got " << shapeOf(shape(getY()));
  SmallVector<int64_t> lse = {x[0], hq, x[1]};
  if (shape(getLse()) != ArrayRef<int64_t>(lse))
    return emitOpError() << "lse must be [B, heads, L] = " << shapeOf(lse)
                         << ", got " << shapeOf(shape(getLse()));
  if (!getBiases().empty()) {
    if (getBiases().size() != 4)
      return emitOpError() << "bias takes four vectors (bq, bk, bv, bo), got "
                           << getBiases().size();
    int64_t want[] = {wq[1], wk[1], wk[1], dm};
    StringRef names[] = {"bq", "bk", "bv", "bo"};
    Type elt = getElementTypeOrSelf(getX().getType());
    for (auto [i, bias] : llvm::enumerate(getBiases())) {
      auto t = cast<RankedTensorType>(bias.getType());
      if (t.getShape() != ArrayRef<int64_t>{want[i]} ||
          t.getElementType() != elt)
        return emitOpError() << names[i] << " must be "
                             << RankedTensorType::get({want[i]}, elt)
                             << ", got " << t;
    }
  }
  if (getGrad())
    return emitOpError()
           << "grad is not supported for the whole layer yet: the backward "
              "pass through the projections is not built; compile the "
              "attention alone (ring.attention ... grad) for gradients";
  if (getScale() && failed(verifyScale(getScale()->convertToDouble(), d,
                                       [&] { return emitOpError(); })))
    return failure();
  if (std::optional<int64_t> n = getMaxDocs())
    if (failed(verifyMaxDocs(*n, [&] { return emitOpError(); })))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Per-rank ops
//===----------------------------------------------------------------------===//

static ArrayRef<int64_t> memShape(Value v) {
  return cast<MemRefType>(v.getType()).getShape();
}

LogicalResult ProjectOp::verify() {
  ArrayRef<int64_t> x = memShape(getInput()), w = memShape(getWeight()),
                    o = memShape(getOutput());
  if (x.size() != 3 || w.size() != 2 || o.size() != 4)
    return emitOpError("needs input [B, L, d_model], weight [d_model, H*D] "
                       "and output [B, H, L, D]");
  if (w[0] != x[2] || o[0] != x[0] || o[2] != x[1] || w[1] != o[1] * o[3])
    return emitOpError() << "input " << shapeOf(x) << ", weight " << shapeOf(w)
                         << " and output " << shapeOf(o)
                         << " do not agree: weight must be [d_model, H*D] = ["
                         << x[2] << ", " << o[1] * o[3] << "]";
  if (getBias() && memShape(getBias()) != ArrayRef<int64_t>{w[1]})
    return emitOpError() << "bias must be [" << w[1] << "], got "
                         << shapeOf(memShape(getBias()));
  return success();
}

LogicalResult OutProjectOp::verify() {
  ArrayRef<int64_t> o = memShape(getInput()), w = memShape(getWeight()),
                    p = memShape(getPartial());
  if (o.size() != 4 || w.size() != 2 || p.size() != 3)
    return emitOpError("needs input [B, H, L, D], weight [H*D, d_model] and "
                       "partial [B, L, d_model]");
  if (w[0] != o[1] * o[3] || p[0] != o[0] || p[1] != o[2] || p[2] != w[1])
    return emitOpError() << "input " << shapeOf(o) << ", weight " << shapeOf(w)
                         << " and partial " << shapeOf(p)
                         << " do not agree: weight must be [H*D, d_model] = ["
                         << o[1] * o[3] << ", " << p[2]
                         << "] and partial [B, L, d_model]";
  return success();
}

LogicalResult OutputAllReduceOp::verify() {
  ArrayRef<int64_t> p = memShape(getPartial()), y = memShape(getOutput());
  if (p != y || p.size() != 3)
    return emitOpError() << "partial " << shapeOf(p) << " and output "
                         << shapeOf(y)
                         << " must both be [B, L, d_model]";
  if (getBias() && memShape(getBias()) != ArrayRef<int64_t>{p[2]})
    return emitOpError() << "bias must be [" << p[2] << "], got "
                         << shapeOf(memShape(getBias()));
  return success();
}

int64_t OutputReduceScatterOp::getShareOffset(int64_t j) {
  int64_t offset = 0;
  for (int64_t i = 0; i < j; ++i)
    offset += getShares()[i];
  return offset;
}

LogicalResult OutputReduceScatterOp::verify() {
  ArrayRef<int64_t> p = memShape(getPartial()), y = memShape(getOutput());
  if (p.size() != 3 || y.size() != 3 || p[0] != y[0] || p[2] != y[2])
    return emitOpError() << "partial " << shapeOf(p) << " and output "
                         << shapeOf(y)
                         << " must be [B, L, d_model] and [B, rows, d_model] "
                            "with the same B and d_model";
  ArrayRef<int64_t> shares = getShares();
  if (shares.empty())
    return emitOpError("shares must list the rows of every rank of the "
                       "group, got none");
  int64_t sum = 0, most = 0;
  for (auto [j, c] : llvm::enumerate(shares)) {
    if (c < 0 || c > p[1])
      return emitOpError() << "share " << j << " has " << c
                           << " rows; each must be in [0, " << p[1] << "]";
    sum += c;
    most = std::max(most, c);
  }
  // Every local row owned exactly once: the shares are consecutive ranges
  // that must cover the Ll rows.
  if (sum != p[1])
    return emitOpError() << "shares " << shapeOf(shares) << " cover " << sum
                         << " rows but partial has " << p[1]
                         << "; each of its rows must be owned by exactly one "
                            "rank, so the shares must sum to "
                         << p[1];
  if (y[1] != most)
    return emitOpError() << "output has " << y[1]
                         << " rows; it holds the largest share, " << most
                         << " rows (shares " << shapeOf(shares) << ")";
  if (getBias() && memShape(getBias()) != ArrayRef<int64_t>{p[2]})
    return emitOpError() << "bias must be [" << p[2] << "], got "
                         << shapeOf(memShape(getBias()));
  return success();
}
