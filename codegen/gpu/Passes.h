//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//
//
// This file declares the passes of the GPU target and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_PASSES_H
#define RINGC_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ring::gpu {

#define GEN_PASS_DECL
#include "codegen/gpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/gpu/Passes.h.inc"

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_PASSES_H
