//===- GpuPipeline.cpp - the GPU targets' passes after overlap --*- C++ -*-===//
//
// This file implements the GPU targets' pipeline: kernel generation and
// PTX serialization (codegen/gpu), the host launches
// (convert-ring-to-gpu-launch), then the CPU target's host lowering
// (convert-ring-to-cpu and the upstream conversions to LLVM) for the rest.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/GpuPipeline.h"
#include "codegen/cpu/CpuPipeline.h"
#include "codegen/gpu/Passes.h"
#include "codegen/gpu/PtxSerializer.h"
#include "codegen/gpu/TargetInfo.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

void mlir::ring::gpu::buildGpuTargetPipeline(OpPassManager &pm,
                                             const GpuTargetOptions &opts) {
  RingGPUGenerateKernelsPassOptions generate;
  generate.target = opts.target;
  generate.ptx = opts.ptx;
  generate.warps = opts.warps;
  generate.blockN = opts.blockN;
  generate.gpuKernel = opts.gpuKernel;
  pm.addPass(createRingGPUGenerateKernelsPass(generate));
  buildKernelLoweringPipeline(pm);
  buildPtxSerializationPipeline(pm);
  ConvertRingToGPULaunchPassOptions launch;
  launch.target = opts.target;
  launch.ptx = opts.ptx;
  launch.warps = opts.warps;
  launch.blockN = opts.blockN;
  launch.gpuKernel = opts.gpuKernel;
  pm.addPass(createConvertRingToGPULaunchPass(launch));
  cpu::CpuTargetOptions cpuOptions;
  cpuOptions.hostFeatures = opts.hostFeatures;
  cpu::buildCpuTargetPipeline(pm, cpuOptions);
}

LogicalResult mlir::ring::gpu::registerGpuTarget(StringRef target,
                                                 std::string &error) {
  if (!TargetInfo::get(target, "", error))
    return failure();
  std::string name = target.str();
  registerTargetPipelineBuilder(
      target, [name](OpPassManager &pm, Phase phase,
                     const PipelineOptions &options, std::string &error) {
        if (options.target != name) {
          error = "GPU pipeline of " + name + " asked for " + options.target;
          return failure();
        }
        GpuTargetOptions opts;
        opts.target = name;
        opts.hostFeatures = options.hostFeatures;
        opts.gpuKernel = options.gpuKernel;
        if (phase >= Phase::Target)
          buildGpuTargetPipeline(pm, opts);
        // Phase::Binary: the host object (PTX embedded) and NAME.ptx are
        // written by the artifact writer from the LLVM-dialect module.
        if (phase >= Phase::LLVM)
          cpu::buildCpuToLLVMPipeline(pm);
        return success();
      });
  return success();
}

void mlir::ring::gpu::registerGpuTargets() {
  std::string error;
  for (StringRef t : {"sm_90a", "sm_80"})
    (void)registerGpuTarget(t, error);
}
