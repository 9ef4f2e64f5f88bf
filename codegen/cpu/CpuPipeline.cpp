//===- CpuPipeline.cpp - the CPU target's passes after overlap --*- C++ -*-===//
//
// This file implements the CPU target's pipeline: convert-ring-to-cpu, then
// upstream lowerings to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuPipeline.h"
#include "codegen/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

void mlir::ring::cpu::buildCpuTargetPipeline(OpPassManager &pm,
                                             const CpuTargetOptions &opts) {
  ConvertRingToCPUPassOptions convert;
  convert.queryTile = opts.queryTile;
  convert.hostFeatures = opts.hostFeatures;
  convert.cpuVariants = opts.cpuVariants;
  pm.addPass(createConvertRingToCPUPass(convert));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::ring::cpu::buildCpuToLLVMPipeline(OpPassManager &pm) {
  // bf16 extf/truncf become integer ops: LLVM would otherwise call
  // __truncsfbf2, which the host's libgcc may not have.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vector;
  vector.reassociateFPReductions = true;
  // x86vector.avx512.dot (the avx512bf16 variant) → its LLVM intrinsic.
  vector.x86Vector = true;
  pm.addPass(createConvertVectorToLLVMPass(vector));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

/// The "cpu" target's phases after overlapped.
static LogicalResult buildCpuPhases(OpPassManager &pm, Phase phase,
                                    const PipelineOptions &options,
                                    std::string &error) {
  if (phase >= Phase::Target) {
    CpuTargetOptions cpuOptions;
    cpuOptions.hostFeatures = options.hostFeatures;
    cpuOptions.cpuVariants = options.cpuVariants;
    buildCpuTargetPipeline(pm, cpuOptions);
  }
  if (phase >= Phase::LLVM)
    buildCpuToLLVMPipeline(pm);
  // Phase::Binary: the object file is written by the artifact writer from
  // the LLVM-dialect module (codegen/Artifacts.h).
  return success();
}

void mlir::ring::cpu::registerCpuTarget() {
  registerTargetPipelineBuilder("cpu", buildCpuPhases);
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  PassPipelineRegistration<>(
      "ring-cpu-to-llvm",
      "Lower an overlapped per-rank module to the LLVM dialect for the host "
      "CPU (convert-ring-to-cpu, then upstream conversions)",
      [](OpPassManager &pm) {
        buildCpuTargetPipeline(pm, CpuTargetOptions());
        buildCpuToLLVMPipeline(pm);
      });
}
