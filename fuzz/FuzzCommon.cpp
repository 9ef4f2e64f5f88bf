//===- FuzzCommon.cpp - shared setup of the libFuzzer targets ---*- C++ -*-===//
//
// This file implements the context and pipeline both fuzz targets use.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzCommon.h"
#include "codegen/InputPhase.h"
#include "dialect/RingDialect.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::ring;

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

void mlir::ring::fuzz::runPipeline(ModuleOp module) {
  PassManager pm(module.getContext());
  PipelineOptions options;
  options.inputPhase = detectInputPhase(module);
  std::string error;
  if (failed(buildPipelineToPhase(pm, Phase::Overlapped, options, error)))
    return;
  (void)pm.run(module);
}
