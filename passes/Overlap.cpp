//===- Overlap.cpp - overlap K/V transfers with compute ---------*- C++ -*-===//
//
// This file implements the ring-overlap pass: each blocking ring.shift of a
// stage becomes a ring.shift_start at the top of the stage and a
// ring.shift_wait where the shift was, so the transfer for stage t+1 is in
// flight while stage t computes. The schedule's ping-pong buffers make this
// legal; the pass still checks, per shift, that nothing before it in the
// stage touches the receive buffer or writes the send buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::ring {
#define GEN_PASS_DEF_RINGOVERLAPPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

/// Whether `op` (or an op nested in it) would race with a transfer from
/// `send` into `recv`: it uses `recv` at all, or writes `send`.
bool conflicts(Operation *op, Value send, Value recv) {
  WalkResult r = op->walk([&](Operation *nested) {
    if (llvm::is_contained(nested->getOperands(), recv))
      return WalkResult::interrupt();
    if (llvm::is_contained(nested->getOperands(), send) &&
        hasEffect<MemoryEffects::Write>(nested, send))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}

void overlapStage(StageOp stage) {
  Block &body = stage.getBody().front();
  SmallVector<ShiftOp> shifts;
  for (Operation &op : body)
    if (auto shift = dyn_cast<ShiftOp>(op))
      shifts.push_back(shift);
  // Starts go to the top of the stage, in the order of the shifts.
  Operation *startPoint = nullptr;
  for (ShiftOp shift : shifts) {
    bool legal = true;
    for (Operation &op : body) {
      if (&op == shift.getOperation())
        break;
      if (!isa<ShiftOp, ShiftStartOp>(op) &&
          conflicts(&op, shift.getSend(), shift.getRecv())) {
        shift.emitRemark() << "not overlapped: an op of stage "
                           << stage.getIndex()
                           << " before it uses its buffers";
        legal = false;
        break;
      }
    }
    if (!legal)
      continue;
    OpBuilder b(stage.getContext());
    if (startPoint)
      b.setInsertionPointAfter(startPoint);
    else
      b.setInsertionPointToStart(&body);
    auto start = ShiftStartOp::create(
        b, shift.getLoc(), TransferType::get(stage.getContext()), shift.getSend(),
        shift.getRecv(), shift.getStage(), shift.getBackward());
    startPoint = start;
    b.setInsertionPoint(shift);
    ShiftWaitOp::create(b, shift.getLoc(), start.getTransfer());
    shift.erase();
  }
}

struct RingOverlapPass
    : public mlir::ring::impl::RingOverlapPassBase<RingOverlapPass> {
  void runOnOperation() override {
    getOperation().walk([](StageOp stage) { overlapStage(stage); });
  }
};
} // namespace
