//===- ScheduleBackward.cpp - the backward ring schedule --------*- C++ -*-===//
//
// This file implements the ring-schedule-backward pass: each
// ring.local_attention_backward becomes ring.stage ops in which the rank's
// Q, dO, LSE and D = rowsum(dO∘O) meet every visible K/V block, dQ
// accumulates at home, and the dK/dV contributions reach the block's owner
// (Passes.td describes the variants and their bytes). Causal skipping and
// window classification are the forward's: the same BlockCases, selected
// by emitBlockCases.
//
// Without a window (or when planRingStages keeps every stage) the ring has
// P stages and the dK/dV accumulators travel with their block, coming home
// by completing the ring. When a sliding window truncates the ring to the
// halo 0, 1..A, −1..−B, completing it would cost P − 1 − A − B more shifts
// of K/V and of dK/dV, so the halo keeps the rank's partial dK/dV per
// distance instead (A + B accumulator pairs, few in a halo) and sends them
// home by two chains of neighbour hops that add at every rank: the partial
// for distance d of block q = p − d goes q+A → q+A−1 → … → q, each rank
// adding its own partial of that block (A hops to p − 1), and the
// successors' blocks symmetrically (B hops to p + 1). That is A + B
// transfers of dK/dV, one per block and hop, against 2A − 1 + 2B − 1 for
// accumulators that travel out with the block and then back. The forward
// blocks' chain starts after stage A, so hop k rides in backward stage −k
// and ring-overlap hides it under that stage's compute; the hops left after
// the last stage run in rounds of their own, both directions in flight at
// once. With B = 0 (a causal window, contiguous layout) all A hops follow
// the compute, as the full ring's last hop does.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/BlockCases.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

#include <map>
#include <numeric>
#include <optional>

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

    RingStages stages = planRingStages(plan);
    if (stages.saved(P) > 0)
      buildHalo(stages, homeK, homeV);
    else
      buildRing(homeK, homeV);
    ConvertOp::create(b, loc, dq, op.getGradQuery());
    ConvertOp::create(b, loc, homeK, op.getGradKey());
    ConvertOp::create(b, loc, homeV, op.getGradValue());
    for (Value buf : allocs)
      memref::DeallocOp::create(b, loc, buf);
    emitRemarks();
    op.erase();
  }

private:
  /// The full ring (no window, or one that leaves a block visible at every
  /// distance): P stages, the dK/dV accumulators travelling with their
  /// block and coming home by completing the ring.
  void buildRing(Value homeK, Value homeV) {
    MLIRContext *ctx = op.getContext();
    Type f32 = Float32Type::get(ctx);
    int64_t P = plan.ring();
    auto kvAccT = MemRefType::get(plan.localKVShape(), f32);
    Value curK = op.getKey(), curV = op.getValue();
    Value bufK[2], bufV[2], partK[2], partV[2], recvK, recvV, sendK, sendV;
    for (int64_t i = 0; i < std::min<int64_t>(2, P - 1); ++i) {
      bufK[i] = alloc(cast<MemRefType>(curK.getType()));
      bufV[i] = alloc(cast<MemRefType>(curV.getType()));
      partK[i] = alloc(kvAccT);
      partV[i] = alloc(kvAccT);
    }
    if (P > 1) {
      recvK = alloc(commType());
      recvV = alloc(commType());
      if (bf16Comm) {
        sendK = alloc(commType());
        sendV = alloc(commType());
      }
    }
    SmallVector<int64_t> offsets(P);
    std::iota(offsets.begin(), offsets.end(), 0);
    allocScores(offsets);

    for (int64_t t = 0; t < P; ++t) {
      OpBuilder::InsertionGuard guard(b);
      beginStage(t);
      Value src = emitStageSource(b, loc, rank, t, P);
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
      emitBlockCases(b, loc, classifyStage(plan, t), src, rank,
                     [&](const BlockCase &c) {
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
  }

  /// One direction of the halo's dK/dV return: the rank's partials by
  /// distance (`parts[0]` the home accumulators, `parts[d]` those of the
  /// block d ranks away in the direction the block came from), and the
  /// buffers of the hops, which go the other way.
  struct ReturnChain {
    SmallVector<std::pair<Value, Value>> parts;
    Value recvK, recvV, sendK, sendV;
    /// The hops go to p − 1 (the partials of the predecessors' blocks).
    bool backward = false;
    int64_t length() const { return parts.size() - 1; }
  };

  /// The halo (planRingStages truncated the ring): stages 0, 1..A forward
  /// and −1..−B backward as in the forward schedule, each adding the dK/dV
  /// contribution of its block into the rank's partial for that distance;
  /// the partials then go home along two chains of neighbour hops that add
  /// at every rank (the file banner and Passes.td explain the choice).
  void buildHalo(const RingStages &stages, Value homeK, Value homeV) {
    MLIRContext *ctx = op.getContext();
    auto kvAccT = MemRefType::get(plan.localKVShape(), Float32Type::get(ctx));
    const int64_t P = plan.ring(), S = stages.offsets.size();
    const int64_t A = stages.forward, B = stages.backward;
    Value curK = op.getKey(), curV = op.getValue();
    // Received blocks ping-pong between two buffers, as in the forward.
    Value bufK[2], bufV[2];
    for (int64_t i = 0; i < std::min<int64_t>(2, S - 1); ++i) {
      bufK[i] = alloc(cast<MemRefType>(curK.getType()));
      bufV[i] = alloc(cast<MemRefType>(curV.getType()));
    }
    ReturnChain fwd, bwd; // blocks of the predecessors / of the successors
    fwd.backward = true;
    for (auto [chain, n] : {std::pair{&fwd, A}, std::pair{&bwd, B}}) {
      chain->parts.push_back({homeK, homeV});
      for (int64_t d = 1; d <= n; ++d) {
        Value k = alloc(kvAccT), v = alloc(kvAccT);
        ZeroOp::create(b, loc, k);
        ZeroOp::create(b, loc, v);
        chain->parts.push_back({k, v});
      }
      if (n == 0)
        continue;
      chain->recvK = alloc(commType());
      chain->recvV = alloc(commType());
      if (bf16Comm) {
        chain->sendK = alloc(commType());
        chain->sendV = alloc(commType());
      }
    }
    allocScores(stages.offsets);

    for (int64_t t = 0; t < S; ++t) {
      int64_t offset = stages.offsets[t];
      OpBuilder::InsertionGuard guard(b);
      beginStage(t);
      Value src = emitStageSource(b, loc, rank, offset, P);
      auto [accK, accV] = offset >= 0 ? fwd.parts[offset] : bwd.parts[-offset];
      emitBlockCases(b, loc, classifyStage(plan, offset), src, rank,
                     [&](const BlockCase &c) {
                       emitBlock(c, src, curK, curV, accK, accV, t);
                     });
      // Backward stage −k carries hop k of the forward blocks' chain: it
      // sends what the previous stage prepared, so ring-overlap starts it
      // at the top of the stage, under the compute.
      if (offset < 0 && -offset <= A)
        returnHop(fwd, -offset, t);
      // A chain's first hop leaves after the stage of its farthest block.
      if (offset == A && A > 0)
        packHop(fwd, A);
      if (offset == -B && B > 0)
        packHop(bwd, B);
      if (t + 1 < S) {
        // As in the forward: the first backward stage starts again from the
        // rank's own block, sent to p − 1.
        int64_t next = stages.offsets[t + 1];
        Value sendK = next == -1 ? op.getKey() : curK;
        Value sendV = next == -1 ? op.getValue() : curV;
        ShiftOp::create(b, loc, sendK, bufK[t % 2], t, next < 0);
        ShiftOp::create(b, loc, sendV, bufV[t % 2], t, next < 0);
        curK = bufK[t % 2];
        curV = bufV[t % 2];
      }
    }
    // The hops left after the last stage, in rounds of their own: the
    // forward blocks' chain past B and the whole backward blocks' chain.
    // A round's two hops go opposite ways, so ring-overlap has both in
    // flight at once.
    for (int64_t r = 1, t = S; r <= std::max(A - B, B); ++r, ++t) {
      OpBuilder::InsertionGuard guard(b);
      beginStage(t);
      if (B + r <= A)
        returnHop(fwd, B + r, t);
      if (r <= B)
        returnHop(bwd, r, t);
    }
    haloHops = {A, B};
  }

  /// Hop k of `chain` (of n = chain.length()): sends the running sum of the
  /// distance n − k + 1 partials to the neighbour, whose partial for
  /// distance n − k is of the same block and receives it (the home
  /// accumulators at k = n), and prepares the next hop.
  void returnHop(ReturnChain &chain, int64_t k, int64_t stage) {
    int64_t n = chain.length();
    auto [fromK, fromV] = chain.parts[n - k + 1];
    auto [intoK, intoV] = chain.parts[n - k];
    ShiftOp::create(b, loc, chain.sendK ? chain.sendK : fromK, chain.recvK,
                    stage, chain.backward);
    ShiftOp::create(b, loc, chain.sendV ? chain.sendV : fromV, chain.recvV,
                    stage, chain.backward);
    AccumulateOp::create(b, loc, chain.recvK, intoK);
    AccumulateOp::create(b, loc, chain.recvV, intoV);
    if (k < n)
      packHop(chain, n - k);
  }

  /// With bf16 gradient transfers, packs the partials of distance `d` of
  /// `chain` for its next hop (nothing to do in fp32: the hop sends them).
  void packHop(ReturnChain &chain, int64_t d) {
    if (!chain.sendK)
      return;
    ConvertOp::create(b, loc, chain.parts[d].first, chain.sendK);
    ConvertOp::create(b, loc, chain.parts[d].second, chain.sendV);
  }

  /// Appends a ring.stage with index `t` and moves the insertion point into
  /// it (callers hold an InsertionGuard).
  void beginStage(int64_t t) {
    auto stage = StageOp::create(b, loc, t);
    stage.getBody().push_back(new Block());
    b.setInsertionPointToStart(&stage.getBody().front());
  }

  /// The element type of the dK/dV transfers: fp32, or bf16 under
  /// grad-comm=bf16.
  MemRefType commType() {
    MLIRContext *ctx = op.getContext();
    return MemRefType::get(plan.localKVShape(),
                           bf16Comm ? Type(BFloat16Type::get(ctx))
                                    : Type(Float32Type::get(ctx)));
  }

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
  void allocScores(ArrayRef<int64_t> offsets) {
    numStages = offsets.size();
    if (plan.dimSlices() == 1)
      return;
    Type f32 = Float32Type::get(op.getContext());
    for (int64_t offset : offsets)
      for (const BlockCase &c : classifyStage(plan, offset)) {
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
    int64_t elems = 1;
    for (int64_t d : plan.localKVShape())
      elems *= d;
    // Unsigned: the plan verifier bounds elems·4 by INT64_MAX, so these
    // products (at most elems·8) fit 64 unsigned bits.
    uint64_t kvBytes = uint64_t(elems) *
                       (plan.elementType.getIntOrFloatBitWidth() / 8) * 2;
    uint64_t gradBytes = uint64_t(elems) * (bf16Comm ? 2 : 4) * 2;
    StringRef gradType = bf16Comm ? "bf16, half of fp32" : "fp32";
    if (haloHops) {
      auto [A, B] = *haloHops;
      // The full ring shifts K/V and the dK/dV accumulators P − 1 times
      // each; the halo A + B times each.
      uint64_t saved = P - 1 - A - B;
      InFlightDiagnostic d = op.emitRemark();
      d << "backward halo (window left " << plan.windowLeft << ", right "
        << plan.windowRight << "): " << numStages << " of " << P
        << " ring stages (" << A << " forward, " << B
        << " backward shifts of K and V, " << kvBytes
        << " bytes each); the dK/dV partials go home in " << A
        << (A == 1 ? " hop" : " hops") << " to p-1 and " << B
        << (B == 1 ? " hop" : " hops") << " to p+1 of " << gradBytes
        << " bytes (" << gradType << "), adding at each rank; saves " << saved
        << " stages and " << saved << " x (" << kvBytes << " + " << gradBytes
        << ") = ";
      bool addOverflow = false, mulOverflow = false;
      uint64_t bytes = llvm::SaturatingMultiply(
          saved, llvm::SaturatingAdd(kvBytes, gradBytes, &addOverflow),
          &mulOverflow);
      if (addOverflow || mulOverflow)
        d << "more than 2^64";
      else
        d << bytes;
      d << " bytes per rank";
    } else if (P > 1) {
      op.emitRemark() << "backward ring: stages 0.." << P - 2
                      << " send the K/V block (" << kvBytes
                      << " bytes); the dK/dV accumulators reach their owner "
                         "after "
                      << P - 1 << (P - 1 == 1 ? " hop" : " hops") << " of "
                      << gradBytes << " bytes (" << gradType << ")";
    }
    if (plan.dimSlices() > 1)
      op.emitRemark() << "dim slices: a backward stage all-reduces up to 2 x "
                      << maxScoreBytes
                      << " bytes (scores Q·Kᵀ and dP = dO·Vᵀ) over the "
                      << plan.dimSlices() << " dim-slice ranks (a ring "
                      << "all-reduce sends "
                      << ringAllReduceSentBytes(maxScoreBytes,
                                                plan.dimSlices(), 2)
                      << " bytes per rank), in each of " << numStages
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
  int64_t maxScoreBytes = 0, numStages = 0;
  /// The halo's hops of K/V (and of the dK/dV chains) forward and backward;
  /// unset for the full ring.
  std::optional<std::pair<int64_t, int64_t>> haloHops;
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
