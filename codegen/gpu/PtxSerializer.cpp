//===- PtxSerializer.cpp - gpu.module to PTX text ---------------*- C++ -*-===//
//
// This file implements the kernel lowering pipeline (upstream conversions
// only) and the extraction of the PTX text from the `gpu.binary` that
// upstream `gpu-module-to-binary` produces.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/PtxSerializer.h"
#include "codegen/gpu/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

using namespace mlir;

void mlir::ring::gpu::registerGpuTargetDialects(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
}

void mlir::ring::gpu::buildKernelLoweringPipeline(OpPassManager &pm) {
  OpPassManager &gm = pm.nest<mlir::gpu::GPUModuleOp>();
  gm.addPass(createSCFToControlFlowPass());
  gm.addPass(createConvertGpuOpsToNVVMOps());
  gm.addPass(createRingGPUGridConstantsPass());
  gm.addPass(createArithToLLVMConversionPass());
  gm.addPass(createConvertIndexToLLVMPass());
  // MLIR 22 anchors convert-cf-to-llvm on builtin.module (it cannot nest on
  // gpu.module); at module level it converts the kernels' cf ops too.
  pm.addPass(createConvertControlFlowToLLVMPass());
  // The NVVM ops that are PTX builders (mbarrier waits, wgmma.mma_async,
  // TMA) become inline PTX.
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::ring::gpu::buildPtxSerializationPipeline(OpPassManager &pm) {
  GpuModuleToBinaryPassOptions options;
  options.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(options));
}

std::string mlir::ring::gpu::extractPtx(ModuleOp module, StringRef name) {
  auto bin = module.lookupSymbol<mlir::gpu::BinaryOp>(name);
  if (!bin)
    return "";
  for (Attribute a : bin.getObjects())
    if (auto obj = dyn_cast<mlir::gpu::ObjectAttr>(a))
      return obj.getObject().str();
  return "";
}
