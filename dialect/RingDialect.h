//===- RingDialect.h - the ring dialect -------------------------*- C++ -*-===//
//
// This file declares the `ring` dialect, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_DIALECT_RINGDIALECT_H
#define RINGC_DIALECT_RINGDIALECT_H

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "dialect/RingDialect.h.inc"
#include "dialect/RingEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/RingAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/RingTypes.h.inc"

#endif // RINGC_DIALECT_RINGDIALECT_H
