//===- FuzzCommon.h - shared setup of the libFuzzer targets -----*- C++ -*-===//
//
// This file declares what both fuzz targets share: a fresh MLIRContext with
// the dialects of the spec and per-rank phases, diagnostics swallowed (a
// rejected input is the expected outcome; only crashes, hangs and sanitizer
// reports are findings), and the verify/partition/schedule/overlap/
// verify-schedule pipeline run on a module.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_FUZZ_FUZZCOMMON_H
#define RINGC_FUZZ_FUZZCOMMON_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>

namespace mlir::ring::fuzz {

/// A context with the ring, shard, func, arith, memref and scf dialects
/// loaded, threading off and every diagnostic discarded.
std::unique_ptr<MLIRContext> makeContext();

/// Runs the pipeline from the phase `module` is at to the overlapped phase
/// (ring-verify-schedule included). The result does not matter.
void runPipeline(ModuleOp module);

} // namespace mlir::ring::fuzz

#endif // RINGC_FUZZ_FUZZCOMMON_H
