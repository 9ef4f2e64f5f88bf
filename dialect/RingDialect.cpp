//===- RingDialect.cpp - the ring dialect -----------------------*- C++ -*-===//
//
// This file implements the registration of the `ring` dialect, its enums and
// attributes.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingDialect.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingOps.h"
#include "dialect/Visibility.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ring;

#include "dialect/RingDialect.cpp.inc"
#include "dialect/RingEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/RingAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/RingTypes.cpp.inc"

void RingDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/RingOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/RingAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/RingTypes.cpp.inc"
      >();
}

LogicalResult WindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t left, int64_t right) {
  return verifyWindow(left, right, emitError);
}

std::pair<int64_t, int64_t> WindowAttr::diffBounds(bool causal) const {
  return windowDiffBounds(causal, getLeft(), getRight());
}

LogicalResult
PlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                 FlatSymbolRefAttr grid, DenseI64ArrayAttr gridShape,
                 int64_t ringAxis, int64_t headGroupAxis, int64_t dimSliceAxis,
                 int64_t batch, int64_t heads, int64_t kvHeads, int64_t seq,
                 int64_t headDim, Type elementType, MaskKind mask,
                 Balance balance, FloatAttr scale, int64_t a2aAxis,
                 int64_t dModel, bool bias, WindowAttr window,
                 int64_t maxDocs, LayerOutput layerOutput) {
  if (!grid || !gridShape || !scale)
    return emitError() << "#ring.plan needs grid, grid_shape and scale";
  AttentionPlan plan;
  plan.grid = grid.getValue().str();
  plan.gridShape.assign(gridShape.asArrayRef().begin(),
                        gridShape.asArrayRef().end());
  plan.axisOfRole = {ringAxis, headGroupAxis, dimSliceAxis};
  plan.batch = batch;
  plan.heads = heads;
  plan.kvHeads = kvHeads;
  plan.seq = seq;
  plan.headDim = headDim;
  plan.elementType = elementType;
  plan.mask = mask;
  plan.balance = balance;
  plan.scale = scale.getValueAsDouble();
  plan.a2aAxis = a2aAxis;
  plan.dModel = dModel;
  plan.bias = bias;
  plan.layerOutput = layerOutput;
  if (window) {
    plan.windowLeft = window.getLeft();
    plan.windowRight = window.getRight();
  }
  plan.maxDocs = maxDocs;
  if (plan.grid.empty() && !plan.gridShape.empty())
    return emitError() << "#ring.plan without a grid must have an empty "
                          "grid_shape";
  return plan.verify([&] {
    InFlightDiagnostic d = emitError();
    d << "invalid #ring.plan: ";
    return d;
  });
}

LogicalResult RingDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() != "ring.plan")
    return success();
  auto planAttr = dyn_cast<PlanAttr>(attr.getValue());
  if (!planAttr)
    return op->emitError() << "'ring.plan' must be a #ring.plan attribute";
  auto fn = dyn_cast<func::FuncOp>(op);
  if (!fn)
    return op->emitError() << "'ring.plan' belongs on a func.func";
  // In the per-rank phases (every argument a memref) the function is the
  // C ABI (q, k, v, o, lse) with the plan's local shapes; the code
  // generators later add arguments and drop the plan.
  ArrayRef<Type> args = fn.getArgumentTypes();
  if (!llvm::all_of(args, [](Type t) { return isa<MemRefType>(t); }))
    return success();
  AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
  // The backward function (`ring.backward`) also takes do, dq, dk, dv; a
  // layer's takes (x, wq, wk, wv, wo, [bq, bk, bv, bo], y, lse).
  bool backward = fn->hasAttr("ring.backward");
  SmallVector<PerRankBuffer> want = perRankBuffers(plan, backward);
  if (args.size() != want.size() || fn.getNumResults() != 0) {
    std::string names;
    for (const PerRankBuffer &w : want)
      names += (names.empty() ? "" : ", ") + w.name.str();
    return op->emitError() << "a per-rank function with a ring.plan takes "
                           << "the buffers (" << names
                           << ") and returns nothing; @" << fn.getSymName()
                           << " takes " << args.size()
                           << " arguments and returns " << fn.getNumResults()
                           << " results";
  }
  for (auto [i, w] : llvm::enumerate(want)) {
    auto t = cast<MemRefType>(args[i]);
    if (t.getShape() != ArrayRef<int64_t>(w.shape) ||
        t.getElementType() != w.elementType)
      return op->emitError()
             << "buffer '" << w.name << "' (argument " << i << ") has type "
             << t << " but the plan's local buffer is "
             << MemRefType::get(w.shape, w.elementType);
  }
  return success();
}
