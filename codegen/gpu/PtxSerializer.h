//===- PtxSerializer.h - gpu.module to PTX text -----------------*- C++ -*-===//
//
// This file declares the lowering of the generated `gpu.module` to the NVVM
// and LLVM dialects and its serialization to PTX through upstream
// `gpu-module-to-binary` (format isa).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_PTXSERIALIZER_H
#define RINGC_CODEGEN_GPU_PTXSERIALIZER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace mlir::ring::gpu {

/// Registers what lowering and serializing the kernels needs: the NVVM
/// target attribute's serialization model and the LLVM IR translations.
void registerGpuTargetDialects(DialectRegistry &registry);

/// Adds the passes that lower the kernels of every gpu.module to NVVM/LLVM
/// (scf -> cf, gpu -> nvvm, arith/index -> llvm).
void buildKernelLoweringPipeline(OpPassManager &pm);

/// Adds upstream gpu-module-to-binary with format isa (PTX text).
void buildPtxSerializationPipeline(OpPassManager &pm);

/// Returns the PTX text of `gpu.binary @name` in `module` (after
/// serialization), or "" if there is none.
std::string extractPtx(ModuleOp module, StringRef name);

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_PTXSERIALIZER_H
