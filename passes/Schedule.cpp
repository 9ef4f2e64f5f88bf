//===- Schedule.cpp - the P-stage ring schedule -----------------*- C++ -*-===//
//
// This file implements the ring-schedule pass: each ring.local_attention
// becomes P ring.stage ops. Stage t computes the rank's queries against the
// K/V block of ring rank (p − t) mod P (the blocks of BlockCases.h), merges
// each fp32 partial into the accumulator, and shifts K and V to rank p+1.
// The result is finalised into O and LSE once, at the end. With a sliding
// window the ring is truncated to the stages that hold visible blocks,
// forward and then backward (planRingStages, BlockCases.h). Packed
// documents (max_docs) only pass cu_seqlens to every block: the stages stay.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/BlockCases.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

#include <map>

namespace mlir::ring {
#define GEN_PASS_DEF_RINGSCHEDULEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

/// Builds the schedule of one ring.local_attention in place of it.
class ScheduleBuilder {
public:
  ScheduleBuilder(LocalAttentionOp op)
      : op(op), plan(AttentionPlan::fromAttr(op.getPlan())),
        b(op), loc(op.getLoc()) {}

  void build() {
    MLIRContext *ctx = op.getContext();
    Type f32 = Float32Type::get(ctx);
    int64_t P = plan.ring();
    auto qShape = plan.localQShape();
    accO = alloc(MemRefType::get(qShape, f32));
    accL = alloc(MemRefType::get(plan.localLseShape(), f32));
    partO = alloc(MemRefType::get(qShape, f32));
    partL = alloc(MemRefType::get(plan.localLseShape(), f32));
    FillPartialOp::create(b, loc, accO, accL);

    rank = op.getCoords()[static_cast<int>(GridRole::Ring)];
    RingStages stages = planRingStages(plan);
    const int64_t S = stages.offsets.size();
    Value curK = op.getKey(), curV = op.getValue();
    Value bufK[2], bufV[2];
    // Received blocks ping-pong between two buffers (one with two stages).
    for (int64_t i = 0; i < std::min<int64_t>(2, S - 1); ++i) {
      bufK[i] = alloc(cast<MemRefType>(curK.getType()));
      bufV[i] = alloc(cast<MemRefType>(curV.getType()));
    }

    // The dim-slice path needs a score buffer per block shape; allocate them
    // all up front so that they dominate every stage.
    if (plan.dimSlices() > 1)
      for (int64_t offset : stages.offsets)
        for (const BlockCase &c : classifyStage(plan, offset)) {
          auto key = std::make_pair(c.qn, c.kn);
          if (!scores.count(key))
            scores[key] = alloc(MemRefType::get(
                {plan.batch, plan.localHeads(), c.qn, c.kn}, f32));
        }

    int64_t maxScoreBytes = 0;
    for (int64_t t = 0; t < S; ++t) {
      int64_t offset = stages.offsets[t];
      auto stage = StageOp::create(b, loc, t);
      stage.getBody().push_back(new Block());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&stage.getBody().front());

      Value src = emitStageSource(b, loc, rank, offset, P);
      SmallVector<BlockCase> cases = classifyStage(plan, offset);
      emitCases(cases, src, curK, curV, t);
      if (plan.dimSlices() > 1) // bounded by the plan verifier only then
        maxScoreBytes = std::max(maxScoreBytes, scoreBytes(cases));

      if (t + 1 < S) {
        // Forward stages pass the block on to p+1; the first backward stage
        // starts again from the rank's own block, sent to p−1.
        int64_t next = stages.offsets[t + 1];
        bool backward = next < 0;
        Value sendK = next == -1 ? op.getKey() : curK;
        Value sendV = next == -1 ? op.getValue() : curV;
        ShiftOp::create(b, loc, sendK, bufK[t % 2], t, backward);
        ShiftOp::create(b, loc, sendV, bufV[t % 2], t, backward);
        curK = bufK[t % 2];
        curV = bufV[t % 2];
      }
    }
    FinalizeOp::create(b, loc, accO, accL, op.getOutput(), op.getLse());
    for (Value buf : allocs)
      memref::DeallocOp::create(b, loc, buf);

    if (plan.dimSlices() > 1) {
      std::string sent =
          ringAllReduceSentBytes(maxScoreBytes, plan.dimSlices());
      op.emitRemark() << "dim slices: a stage all-reduces up to "
                      << maxScoreBytes << " bytes of partial scores over the "
                      << plan.dimSlices()
                      << " dim-slice ranks (a ring all-reduce sends " << sent
                      << " bytes per rank), in each of " << P << " stages";
    }
    // One ring rank has a single stage and shifts nothing: no ring remarks.
    if (plan.hasWindow() && P > 1) {
      int64_t kvBytes = 2 * cast<MemRefType>(op.getKey().getType())
                                .getNumElements() *
                        (plan.elementType.getIntOrFloatBitWidth() / 8);
      int64_t saved = stages.saved(P);
      InFlightDiagnostic d = op.emitRemark();
      d << "sliding window (left " << plan.windowLeft << ", right "
        << plan.windowRight << "): " << S << " of " << P << " ring stages ("
        << stages.forward << " forward, " << stages.backward
        << " backward shifts of K and V); saves " << saved
        << " stages and " << saved << " x " << kvBytes << " = ";
      int64_t bytes;
      if (llvm::MulOverflow(saved, kvBytes, bytes))
        d << "more than 2^63";
      else
        d << bytes;
      d << " bytes per rank";
    }
    if (plan.hasDocuments() && P > 1)
      op.emitRemark()
          << "packed documents (max_docs " << plan.maxDocs
          << "): every block applies the document mask of cu_seqlens at run "
             "time and skips "
          << (plan.dimSlices() > 1 ? "the keys" : "key tiles")
          << " outside its queries' documents; all " << S << " ring stages still shift K and V, since no stage can be "
                  "proved dead before the documents are known";
    op.erase();
  }

private:
  Value alloc(MemRefType type) {
    Value v = memref::AllocOp::create(b, loc, type);
    allocs.push_back(v);
    return v;
  }

  /// The fp32 score bytes one rank all-reduces at a stage with `cases`:
  /// the unconditional blocks plus the larger of the two conditional sets.
  int64_t scoreBytes(ArrayRef<BlockCase> cases) const {
    int64_t always = 0, before = 0, after = 0;
    for (const BlockCase &c : cases)
      (c.condition == BlockCondition::Always          ? always
       : c.condition == BlockCondition::SrcBeforeRank ? before
                                                      : after) += c.work();
    return (always + std::max(before, after)) * plan.batch *
           plan.localHeads() * 4;
  }

  /// Emits the block computations and merges of one stage, selecting the
  /// rank-dependent cases with scf.if on src < p.
  void emitCases(ArrayRef<BlockCase> cases, Value src, Value k, Value v,
                 int64_t stage) {
    emitBlockCases(b, loc, cases, src, rank, [&](const BlockCase &c) {
      emitBlock(c, src, k, v, stage);
    });
  }

  void emitBlock(const BlockCase &c, Value src, Value k, Value v,
                 int64_t stage) {
    MLIRContext *ctx = op.getContext();
    auto qRows = DenseI64ArrayAttr::get(ctx, {c.q0, c.qn});
    auto kvRows = DenseI64ArrayAttr::get(ctx, {c.k0, c.kn});
    auto mask = MaskKindAttr::get(ctx, c.mask);
    auto layout = BalanceAttr::get(ctx, plan.balance);
    WindowAttr window = c.window ? plan.windowAttr(ctx) : WindowAttr();
    auto ringSize = b.getI64IntegerAttr(plan.ring());
    auto scale = b.getF64FloatAttr(plan.scale);
    if (plan.dimSlices() == 1) {
      BlockAttentionOp::create(b, loc, op.getQuery(), k, v, partO, partL,
                               rank, src, op.getDocuments(), qRows, kvRows,
                               mask, layout, window, ringSize, scale,
                               seqLenAttr(b, plan));
    } else {
      Value s = scores.at(std::make_pair(c.qn, c.kn));
      BlockScoresOp::create(b, loc, op.getQuery(), k, s, qRows, kvRows);
      AllReduceOp::create(b, loc, s, stage);
      BlockSoftmaxVOp::create(b, loc, s, v, partO, partL, rank, src,
                              op.getDocuments(), qRows, kvRows, mask, layout,
                              window, ringSize, scale, seqLenAttr(b, plan));
    }
    MergeOp::create(b, loc, partO, partL, accO, accL, qRows);
  }

  LocalAttentionOp op;
  AttentionPlan plan;
  OpBuilder b;
  Location loc;
  Value rank, accO, accL, partO, partL;
  SmallVector<Value> allocs;
  std::map<std::pair<int64_t, int64_t>, Value> scores;
};

struct RingSchedulePass
    : public mlir::ring::impl::RingSchedulePassBase<RingSchedulePass> {
  void runOnOperation() override {
    SmallVector<LocalAttentionOp> ops;
    getOperation().walk([&](LocalAttentionOp op) { ops.push_back(op); });
    // The op verifier proved 3 coordinates and buffers of the plan's local
    // shapes, and the plan verifier positive, divisible sizes.
    for (LocalAttentionOp op : ops)
      ScheduleBuilder(op).build();
  }
};
} // namespace
