//===- InputPhase.h - the phase an input module is at -----------*- C++ -*-===//
//
// This file declares the detection of the pipeline phase of a module, so
// that ringc can take a module that is already partitioned, scheduled or
// overlapped and run only the passes after it.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_INPUTPHASE_H
#define RINGC_CODEGEN_INPUTPHASE_H

#include "passes/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::ring {

/// The phase of `module`, judged by its ops:
///   * a `ring.attention` → spec;
///   * a function with `ring.plan` holding a `ring.local_attention` →
///     partitioned; holding a blocking `ring.shift` → scheduled; otherwise
///     (async shifts, or P = 1 with no shift at all) → overlapped;
///   * neither → spec (the verifier will say what is missing).
Phase detectInputPhase(ModuleOp module);

} // namespace mlir::ring

#endif // RINGC_CODEGEN_INPUTPHASE_H
