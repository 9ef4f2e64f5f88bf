//===- RingOps.h - operations of the ring dialect ---------------*- C++ -*-===//
//
// This file declares the operations of the `ring` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_DIALECT_RINGOPS_H
#define RINGC_DIALECT_RINGOPS_H

#include "dialect/RingDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

#define GET_OP_CLASSES
#include "dialect/RingOps.h.inc"

namespace mlir::ring {
/// Checks the document boundaries operand `documents` of a per-rank op
/// (packed documents): a dense buffer of N + 1 >= 2 int32 boundaries, with
/// N = `maxDocs` when the plan is known (0: the op must have none, and a
/// plan with max_docs needs one).
LogicalResult verifyDocuments(Operation *op, Value documents,
                              std::optional<int64_t> maxDocs = {});
} // namespace mlir::ring

#endif // RINGC_DIALECT_RINGOPS_H
