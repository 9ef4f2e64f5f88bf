//===- Passes.h - ringc passes ----------------------------------*- C++ -*-===//
//
// This file declares the passes of the ringc pipeline and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_PASSES_H
#define RINGC_PASSES_PASSES_H

#include "dialect/RingOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ring {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::ring

#endif // RINGC_PASSES_PASSES_H
