//===- ring-opt.cpp - the ringc optimizer driver ----------------*- C++ -*-===//
//
// This file implements ring-opt: MlirOptMain with the ring dialect, the ringc
// passes and named pipelines, and the upstream dialects and passes the
// pipeline uses.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "codegen/Passes.h"
#include "codegen/cpu/CpuPipeline.h"
#include "codegen/gpu/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::ring::registerRingPasses();
  mlir::ring::registerRingPipelines();
  mlir::ring::registerRingCodegenPasses();
  mlir::ring::cpu::registerCpuTarget();
  mlir::ring::gpu::registerRingGPUPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::ring::RingDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ringc optimizer driver\n", registry));
}
