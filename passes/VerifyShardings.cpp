//===- VerifyShardings.cpp - check that a spec can be compiled -*- C++ -*-===//
//
// This file implements the ring-verify-shardings pass: it derives the plan of
// every ring.attention (dialect/AttentionPlan.h), which reports each spec
// ringc cannot compile at the op.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/Passes.h"

namespace mlir::ring {
#define GEN_PASS_DEF_RINGVERIFYSHARDINGSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {
struct RingVerifyShardingsPass
    : public mlir::ring::impl::RingVerifyShardingsPassBase<RingVerifyShardingsPass> {
  using Base::Base;

  void runOnOperation() override {
    SymbolTableCollection symbols;
    bool anyFailed = false;
    getOperation().walk([&](AttentionOp op) {
      FailureOr<AttentionPlan> plan = deriveAttentionPlan(op, symbols);
      if (failed(plan)) {
        anyFailed = true;
        return;
      }
      if (emitPlanRemarks)
        op.emitRemark() << "plan: " << plan->str() << " ranks="
                        << plan->numRanks();
    });
    if (anyFailed)
      signalPassFailure();
  }
};
} // namespace
