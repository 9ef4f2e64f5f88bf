//===- GpuModuleBuilder.h - collect and build the kernel module -*- C++ -*-===//
//
// This file declares GpuModuleBuilder: it walks a per-rank ring program,
// derives the kernel variant of every ring op that runs on the device,
// diagnoses variants that cannot be generated, and builds the
// `gpu.module @ringc_kernels` holding each variant once.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_GPUMODULEBUILDER_H
#define RINGC_CODEGEN_GPU_GPUMODULEBUILDER_H

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

#include <utility>
#include <vector>

namespace mlir::ring::gpu {

/// Name of the generated gpu.module.
constexpr StringLiteral kKernelModuleName = "ringc_kernels";
/// The attribute naming the kernel a ring op launches.
constexpr StringLiteral kKernelAttrName = "ring.gpu_kernel";

class GpuModuleBuilder {
public:
  explicit GpuModuleBuilder(const TargetInfo &target) : target(target) {}

  /// Overrides the default tiles (0 keeps the per-head-dim default).
  void setTileOverrides(int warps, int blockN) {
    warpsOverride = warps;
    blockNOverride = blockN;
  }

  /// The kernel variant of a block_attention op.
  AttentionKernelConfig configFor(BlockAttentionOp op) const;

  /// Collects the variants of every device op under `root`, tags each op
  /// with `ring.gpu_kernel`, and emits an error for every op the GPU target
  /// cannot run. Fails if any error was emitted.
  LogicalResult collect(Operation *root);

  /// Adds a kernel variant directly (tools and tests); returns its name.
  std::string addAttention(const AttentionKernelConfig &config);
  /// Adds the fill, merge and finalize kernels for output type `dtype`.
  void addRowKernels(StringRef dtype);

  /// Builds (or replaces) `gpu.module @ringc_kernels` in `module` and marks
  /// the module as a `gpu.container_module`.
  LogicalResult build(ModuleOp module);

  /// The text of the gpu.module (for tests and the artifact writer).
  std::string moduleText() const;

private:
  const TargetInfo &target;
  int warpsOverride = 0, blockNOverride = 0;
  /// Kernel name -> gpu.func text, in first-use order.
  std::vector<std::pair<std::string, std::string>> kernels;
  llvm::StringSet<> kernelNames;
};

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_GPUMODULEBUILDER_H
