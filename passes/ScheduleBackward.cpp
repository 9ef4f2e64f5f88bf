//===- ScheduleBackward.cpp - the P-stage backward ring schedule -*- C++ -*-===//
//
// This file implements the ring-schedule-backward pass: each
// ring.local_attention_backward becomes P ring.stage ops in which the
// rank's Q, dO, LSE and D = rowsum(dO∘O) meet every K/V block, dQ
// accumulates at home, and the dK/dV accumulators travel with their block
// (Passes.td describes the variant and its bytes per stage). Causal skipping
// is the forward's: the same BlockCases, selected by emitBlockCases.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/BlockCases.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

#include <map>

namespace mlir::ring {
#define GEN_PASS_DEF_RINGSCHEDULEBACKWARDPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

/// Builds the backward schedule of one ring.local_attention_backward in
/// place of it.
class BackwardBuilder {
public:
  BackwardBuilder(LocalAttentionBackwardOp op, bool bf16Comm)
      : op(op), plan(AttentionPlan::fromAttr(op.getPlan())), b(op),
        loc(op.getLoc()), bf16Comm(bf16Comm) {}

  void build() {
    MLIRContext *ctx = op.getContext();
    Type f32 = Float32Type::get(ctx);
    int64_t P = plan.ring();
    auto qAccT = MemRefType::get(plan.localQShape(), f32);
    auto kvAccT = MemRefType::get(plan.localKVShape(), f32);
    rank = op.getCoords()[static_cast<int>(GridRole::Ring)];

    // D = rowsum(dO ∘ O), once per rank (summed over the dim slices).
    delta = alloc(MemRefType::get(plan.localLseShape(), f32));
    GradDeltaOp::create(b, loc, op.getOutput(), op.getGradOutput(), delta);
    if (plan.dimSlices() > 1)
      AllReduceOp::create(b, loc, delta, 0);

    dq = alloc(qAccT);
    ZeroOp::create(b, loc, dq);
    // Stage 0's contribution to the rank's own dK/dV stays home.
    Value homeK = alloc(kvAccT), homeV = alloc(kvAccT);
    ZeroOp::create(b, loc, homeK);
    ZeroOp::create(b, loc, homeV);

    Value curK = op.getKey(), curV = op.getValue();
    Value bufK[2], bufV[2], partK[2], partV[2], recvK, recvV, sendK, sendV;
    for (int64_t i = 0; i < std::min<int64_t>(2, P - 1); ++i) {
      bufK[i] = alloc(cast<MemRefType>(curK.getType()));
      bufV[i] = alloc(cast<MemRefType>(curV.getType()));
      partK[i] = alloc(kvAccT);
      partV[i] = alloc(kvAccT);
    }
    if (P > 1) {
      auto commT = bf16Comm ? MemRefType::get(plan.localKVShape(),
                                              BFloat16Type::get(ctx))
                            : kvAccT;
      recvK = alloc(commT);
      recvV = alloc(commT);
      if (bf16Comm) {
        sendK = alloc(commT);
        sendV = alloc(commT);
      }
    }
    allocScores();

    for (int64_t t = 0; t < P; ++t) {
      auto stage = StageOp::create(b, loc, t);
      stage.getBody().push_back(new Block());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&stage.getBody().front());
      Value src = rank;
      if (t > 0) {
        Value shifted = arith::AddIOp::create(
            b, loc, rank, arith::ConstantIndexOp::create(b, loc, P - t));
        src = arith::RemUIOp::create(b, loc, shifted,
                                     arith::ConstantIndexOp::create(b, loc, P));
      }
      // Stage 0 adds to the home accumulators; stage t ≥ 1 to a fresh
      // travelling one for the block it holds. From stage 2 on, the
      // accumulator of that block that the predecessor finished in stage
      // t − 1 arrives meanwhile (the shift is emitted after the compute, so
      // that ring-overlap starts it at the top of the stage and waits just
      // before it is needed) and is added in.
      Value accK = homeK, accV = homeV;
      if (t > 0) {
        accK = partK[(t - 1) % 2];
        accV = partV[(t - 1) % 2];
        ZeroOp::create(b, loc, accK);
        ZeroOp::create(b, loc, accV);
      }
      // A window skips blocks here too, but the ring keeps all P stages:
      // the dK/dV accumulators come home by completing it.
      emitBlockCases(b, loc, classifyStage(plan, t), src, rank, [&](const BlockCase &c) {
                       emitBlock(c, src, curK, curV, accK, accV, t);
                     });
      if (t >= 2) {
        shiftGrad(partK[t % 2], sendK, recvK, t);
        shiftGrad(partV[t % 2], sendV, recvV, t);
        AccumulateOp::create(b, loc, recvK, accK);
        AccumulateOp::create(b, loc, recvV, accV);
      }
      // With bf16 gradient transfers, the accumulator is packed for the
      // next stage's shift now, while nothing else uses it.
      if (t > 0 && sendK) {
        ConvertOp::create(b, loc, accK, sendK);
        ConvertOp::create(b, loc, accV, sendV);
      }
      // The K/V block moves on, as in the forward (ring-overlap starts the
      // transfer at the top of the stage).
      if (t + 1 < P) {
        ShiftOp::create(b, loc, curK, bufK[t % 2], t);
        ShiftOp::create(b, loc, curV, bufV[t % 2], t);
        curK = bufK[t % 2];
        curV = bufV[t % 2];
      }
    }
    // After the last stage the accumulator of the rank's own block makes its
    // last hop home and joins the home accumulator.
    if (P > 1) {
      shiftGrad(partK[(P - 2) % 2], sendK, recvK, P - 1);
      shiftGrad(partV[(P - 2) % 2], sendV, recvV, P - 1);
      AccumulateOp::create(b, loc, recvK, homeK);
      AccumulateOp::create(b, loc, recvV, homeV);
    }
    ConvertOp::create(b, loc, dq, op.getGradQuery());
    ConvertOp::create(b, loc, homeK, op.getGradKey());
    ConvertOp::create(b, loc, homeV, op.getGradValue());
    for (Value buf : allocs)
      memref::DeallocOp::create(b, loc, buf);
    emitRemarks();
    op.erase();
  }

private:
  Value alloc(MemRefType type) {
    Value v = memref::AllocOp::create(b, loc, type);
    allocs.push_back(v);
    return v;
  }

  /// Sends the travelling accumulator `acc` (or, with grad-comm=bf16, its
  /// bf16 copy `send`) to the ring successor and receives the
  /// predecessor's into `recv`.
  void shiftGrad(Value acc, Value send, Value recv, int64_t stage) {
    ShiftOp::create(b, loc, send ? send : acc, recv, stage);
  }

  /// Dim slices: a score and a score-gradient buffer per block shape, all
  /// allocated up front so that they dominate every stage.
  void allocScores() {
    if (plan.dimSlices() == 1)
      return;
    Type f32 = Float32Type::get(op.getContext());
    for (int64_t t = 0; t < plan.ring(); ++t)
      for (const BlockCase &c : classifyStage(plan, t)) {
        auto key = std::make_pair(c.qn, c.kn);
        if (scores.count(key))
          continue;
        auto type = MemRefType::get(
            {plan.batch, plan.localHeads(), c.qn, c.kn}, f32);
        scores[key] = {alloc(type), alloc(type)};
        maxScoreBytes = std::max(maxScoreBytes, type.getNumElements() * 4);
      }
  }

  void emitBlock(const BlockCase &c, Value src, Value k, Value v, Value accK,
                 Value accV, int64_t stage) {
    MLIRContext *ctx = op.getContext();
    auto qRows = DenseI64ArrayAttr::get(ctx, {c.q0, c.qn});
    auto kvRows = DenseI64ArrayAttr::get(ctx, {c.k0, c.kn});
    Value s, ds;
    if (plan.dimSlices() > 1) {
      // Q·Kᵀ and dO·Vᵀ are sums over head_dim: partial per slice, summed by
      // score-sized all-reduces over the slice axis.
      std::tie(s, ds) = scores.at(std::make_pair(c.qn, c.kn));
      BlockScoresOp::create(b, loc, op.getQuery(), k, s, qRows, kvRows);
      AllReduceOp::create(b, loc, s, stage);
      BlockScoresOp::create(b, loc, op.getGradOutput(), v, ds, qRows, kvRows);
      AllReduceOp::create(b, loc, ds, stage);
    }
    BlockAttentionBackwardOp::create(
        b, loc, op.getQuery(), k, v, op.getGradOutput(), op.getLse(), delta, s,
        ds, dq, accK, accV, rank, src, op.getDocuments(), qRows, kvRows,
        MaskKindAttr::get(ctx, c.mask), BalanceAttr::get(ctx, plan.balance),
        c.window ? plan.windowAttr(ctx) : WindowAttr(),
        b.getI64IntegerAttr(plan.ring()), b.getF64FloatAttr(plan.scale),
        seqLenAttr(b, plan));
  }

  void emitRemarks() {
    int64_t P = plan.ring();
    if (P > 1) {
      int64_t elems = 1;
      for (int64_t d : plan.localKVShape())
        elems *= d;
      // Unsigned: the plan verifier bounds elems·4 by INT64_MAX, so these
      // products (at most elems·8) fit 64 unsigned bits.
      uint64_t kvBytes = uint64_t(elems) *
                         (plan.elementType.getIntOrFloatBitWidth() / 8) * 2;
      uint64_t gradBytes = uint64_t(elems) * (bf16Comm ? 2 : 4) * 2;
      op.emitRemark() << "backward ring: stages 0.." << P - 2
                      << " send the K/V block (" << kvBytes
                      << " bytes); the dK/dV accumulators reach their owner "
                         "after "
                      << P - 1 << (P - 1 == 1 ? " hop" : " hops") << " of "
                      << gradBytes << " bytes ("
                      << (bf16Comm ? "bf16, half of fp32" : "fp32") << ")";
    }
    if (plan.dimSlices() > 1)
      op.emitRemark() << "dim slices: a backward stage all-reduces up to 2 x "
                      << maxScoreBytes
                      << " bytes (scores Q·Kᵀ and dP = dO·Vᵀ) over the "
                      << plan.dimSlices() << " dim-slice ranks (a ring "
                      << "all-reduce sends "
                      << ringAllReduceSentBytes(maxScoreBytes,
                                                plan.dimSlices(), 2)
                      << " bytes per rank), in each of " << P
                      << " stages, plus the rows of D once";
  }

  LocalAttentionBackwardOp op;
  AttentionPlan plan;
  OpBuilder b;
  Location loc;
  bool bf16Comm;
  Value rank, delta, dq;
  SmallVector<Value> allocs;
  std::map<std::pair<int64_t, int64_t>, std::pair<Value, Value>> scores;
  int64_t maxScoreBytes = 0;
};

struct RingScheduleBackwardPass
    : public mlir::ring::impl::RingScheduleBackwardPassBase<
          RingScheduleBackwardPass> {
  using Base::Base;

  void runOnOperation() override {
    if (gradComm != "fp32" && gradComm != "bf16") {
      getOperation().emitError()
          << "ring-schedule-backward: grad-comm must be fp32 or bf16, got '"
          << gradComm << "'";
      return signalPassFailure();
    }
    SmallVector<LocalAttentionBackwardOp> ops;
    getOperation().walk(
        [&](LocalAttentionBackwardOp op) { ops.push_back(op); });
    for (LocalAttentionBackwardOp op : ops) {
      if (op.getCoords().size() != kNumGridRoles) {
        op.emitOpError() << "expects " << kNumGridRoles
                         << " coordinates (ring, head group, dim slice), got "
                         << op.getCoords().size();
        return signalPassFailure();
      }
      BackwardBuilder(op, gradComm == "bf16").build();
    }
  }
};
} // namespace
