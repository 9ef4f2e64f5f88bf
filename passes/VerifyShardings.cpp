//===- VerifyShardings.cpp - check that a spec can be compiled -*- C++ -*-===//
//
// This file implements the ring-verify-shardings pass: it derives the plan of
// every ring.attention (dialect/AttentionPlan.h), which reports each spec
// ringc cannot compile at the op.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/Passes.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cfloat>

namespace mlir::ring {
#define GEN_PASS_DEF_RINGVERIFYSHARDINGSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {
/// The kernels compute logits scale·(q·k) in fp32 (times log2 e on GPUs). A
/// scale so large that inputs with |q|, |k| <= 1 already overflow fp32 makes
/// rows of ±inf logits, then O = NaN or 0: legal, but almost surely not
/// meant, so it gets a warning with the input bound that stays finite.
void warnOnLogitOverflow(AttentionOp op, const AttentionPlan &plan) {
  double worst = plan.scale * static_cast<double>(plan.headDim) * kLog2E;
  if (worst <= FLT_MAX)
    return;
  op.emitWarning() << "scale "
                   << llvm::formatv("{0}", llvm::format("%g", plan.scale))
                          .str()
                   << " overflows the kernels' fp32 logits: with head_dim "
                   << plan.headDim
                   << ", inputs with |q|, |k| <= 1 reach scale*head_dim*log2(e)"
                      " = "
                   << llvm::formatv("{0}", llvm::format("%g", worst)).str()
                   << " > " << llvm::formatv("{0}", llvm::format("%g", FLT_MAX)).str()
                   << "; logits stay finite only while |q.k| < "
                   << llvm::formatv("{0}", llvm::format(
                                               "%g", FLT_MAX / (plan.scale * kLog2E)))
                          .str();
}

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
      warnOnLogitOverflow(op, *plan);
      if (emitPlanRemarks)
        op.emitRemark() << "plan: " << plan->str() << " ranks="
                        << plan->numRanks();
    });
    getOperation().walk([&](AttentionLayerOp op) {
      FailureOr<AttentionPlan> plan = deriveLayerPlan(op, symbols);
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
