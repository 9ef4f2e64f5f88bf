//===- InputPhase.cpp - the phase an input module is at ---------*- C++ -*-===//
//
// This file implements detectInputPhase.
//
//===----------------------------------------------------------------------===//

#include "codegen/InputPhase.h"
#include "dialect/RingOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace mlir::ring;

Phase mlir::ring::detectInputPhase(ModuleOp module) {
  bool spec = false, perRank = false, local = false, blockingShift = false;
  module.walk([&](Operation *op) {
    if (isa<AttentionOp, AttentionLayerOp>(op))
      spec = true;
    else if (isa<LocalAttentionOp>(op))
      local = true;
    else if (isa<ShiftOp>(op))
      blockingShift = true;
    else if (auto fn = dyn_cast<func::FuncOp>(op))
      perRank |= fn->hasAttr("ring.plan");
  });
  if (spec || !perRank)
    return Phase::Spec;
  if (local)
    return Phase::Partitioned;
  if (blockingShift)
    return Phase::Scheduled;
  return Phase::Overlapped;
}
