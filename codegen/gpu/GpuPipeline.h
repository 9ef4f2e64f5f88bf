//===- GpuPipeline.h - the GPU targets' passes after overlap ----*- C++ -*-===//
//
// This file declares the pipeline of the GPU targets (sm_90a, sm_80, any
// sm_NN[a] with NN >= 80) from the overlapped phase to the target phase
// (kernels generated and serialized to PTX, host launches through ringrt)
// and the llvm phase (the host code in the LLVM dialect, PTX embedded), and
// its registration with Pipelines.h.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_GPUPIPELINE_H
#define RINGC_CODEGEN_GPU_GPUPIPELINE_H

#include "passes/Pipelines.h"

#include <string>

namespace mlir::ring::gpu {

/// Options of a GPU target.
struct GpuTargetOptions {
  /// sm_90a, sm_80, ...
  std::string target = "sm_90a";
  /// PTX ISA version ("" = the lowest the chip needs).
  std::string ptx;
  /// Tile overrides of the attention kernel (0 = defaults per head dim).
  int warps = 0, blockN = 0;
  /// The block-attention kernel: "mma", "wgmma" or "auto" (Kernels.h:
  /// selectAttentionKernel).
  std::string gpuKernel = "auto";
  /// x86 features the host entry point checks (see cpu::CpuTargetOptions).
  std::string hostFeatures;
};

/// Adds the passes that take an overlapped module to the target phase:
/// ring-gpu-generate-kernels, the kernel lowering and PTX serialization,
/// convert-ring-to-gpu-launch, then convert-ring-to-cpu for the host rest.
void buildGpuTargetPipeline(OpPassManager &pm, const GpuTargetOptions &opts);

/// Registers GPU target `target` with buildPipelineToPhase (phases target,
/// llvm and binary) after checking it with TargetInfo. Fails with a message
/// in `error` for a target TargetInfo rejects.
LogicalResult registerGpuTarget(StringRef target, std::string &error);

/// Registers sm_90a and sm_80.
void registerGpuTargets();

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_GPUPIPELINE_H
