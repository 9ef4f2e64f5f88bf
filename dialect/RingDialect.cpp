//===- RingDialect.cpp - the ring dialect -----------------------*- C++ -*-===//
//
// This file implements the registration of the `ring` dialect, its enums and
// attributes.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingDialect.h"
#include "dialect/RingOps.h"

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
