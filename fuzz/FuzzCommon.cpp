//===- FuzzCommon.cpp - shared setup of the libFuzzer targets ---*- C++ -*-===//
//
// This file implements the context and pipeline both fuzz targets use.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzCommon.h"
#include "codegen/InputPhase.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingDialect.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::ring;

/// ASan options compiled into both fuzz targets. allow_user_poisoning=0:
/// our instrumented code instantiates llvm::BumpPtrAllocator's inline
/// functions, which poison the unused tail of each new slab, while the
/// uninstrumented libMLIR.so instantiates the same functions without the
/// matching unpoisoning. An attribute libMLIR allocates (e.g. an IntegerAttr)
/// in a slab our code started is then "use-after-poison" to us: a false
/// report whose appearance depends only on where slab boundaries fall
/// (seen on `heads=2,seq=250,head_dim=20,ring=4,causal=1`). Real heap
/// errors (overflows, use after free, leaks) are still reported.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}

std::unique_ptr<MLIRContext> mlir::ring::fuzz::makeContext() {
  DialectRegistry registry;
  registry.insert<RingDialect, shard::ShardDialect, func::FuncDialect,
                  arith::ArithDialect, memref::MemRefDialect,
                  scf::SCFDialect>();
  auto ctx = std::make_unique<MLIRContext>(registry,
                                           MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  ctx->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  return ctx;
}

namespace {

/// The most ranks for which the targets run the schedule passes. The
/// schedule checker follows every rank's trace, O(P^2) events for a ring of
/// P ranks: about 1.5 s at P = 1024 in a release build, but past the
/// fuzzers' per-input limit (20-30 s) under ASan on a loaded machine, which
/// is a slow input, not a hang. Bigger grids stop at the partitioned phase,
/// so the parser, the verifiers and the partitioner still see them; the
/// release-build tests (spec-limits.test) cover the big rings end to end.
constexpr int64_t kMaxScheduledRanks = 256;

/// The largest rank count the module's grids or per-rank plans name.
int64_t largestGrid(ModuleOp module) {
  int64_t most = 1;
  module.walk([&](Operation *op) {
    if (auto grid = dyn_cast<shard::GridOp>(op)) {
      int64_t n = 1;
      for (int64_t d : grid.getShape())
        n = d > 0 && n <= kMaxScheduledRanks ? n * d : kMaxScheduledRanks + 1;
      most = std::max(most, n);
    }
    if (auto plan = op->getAttrOfType<PlanAttr>("ring.plan"))
      most = std::max(most, AttentionPlan::fromAttr(plan).numRanks());
  });
  return most;
}

} // namespace

void mlir::ring::fuzz::runPipeline(ModuleOp module) {
  PassManager pm(module.getContext());
  PipelineOptions options;
  options.inputPhase = detectInputPhase(module);
  std::string error;
  Phase last = largestGrid(module) > kMaxScheduledRanks ? Phase::Partitioned
                                                          : Phase::Overlapped;
  if (last < options.inputPhase)
    return;
  if (failed(buildPipelineToPhase(pm, last, options, error)))
    return;
  (void)pm.run(module);
}
