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

#define GET_OP_CLASSES
#include "dialect/RingOps.h.inc"

#endif // RINGC_DIALECT_RINGOPS_H
