//===- GenerateKernels.cpp - the ring-gpu-generate-kernels pass -*- C++ -*-===//
//
// This file implements the pass that collects the kernel variants of a
// per-rank ring program, generates them (Kernels.h) into one
// `gpu.module @ringc_kernels` with the NVVM target attribute, and records on
// each ring op the kernel it launches (`ring.gpu_kernel`).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Passes.h"
#include "codegen/gpu/GpuModuleBuilder.h"
#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/TargetInfo.h"

#include "dialect/RingOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::ring::gpu {
#define GEN_PASS_DEF_RINGGPUGENERATEKERNELSPASS
#include "codegen/gpu/Passes.h.inc"
} // namespace mlir::ring::gpu

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

namespace {
struct GenerateKernelsPass
    : public mlir::ring::gpu::impl::RingGPUGenerateKernelsPassBase<
          GenerateKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string error;
    auto target = TargetInfo::get(this->target, ptx, error);
    if (!target) {
      module.emitError(error);
      return signalPassFailure();
    }
    GpuModuleBuilder builder(*target);
    builder.setTileOverrides(warps, blockN);
    auto kind = builder.resolveAttentionKernel(module, gpuKernel,
                                               /*remark=*/true, error);
    if (!kind) {
      module.emitError(error);
      return signalPassFailure();
    }
    builder.setAttentionKernel(*kind);
    if (failed(builder.collect(module)) || failed(builder.build(module)))
      return signalPassFailure();
  }
};
} // namespace
