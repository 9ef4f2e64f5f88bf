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

#include <functional>
#include <utility>
#include <vector>

namespace mlir::ring::gpu {

/// Name of the generated gpu.module.
constexpr StringLiteral kKernelModuleName = "ringc_kernels";
/// The attribute naming the kernel a ring op launches.
constexpr StringLiteral kKernelAttrName = "ring.gpu_kernel";

/// The three ring.project ops (in block order: Q, K, V as ring-partition
/// emits them) that read the same X in `op`'s block with the same element
/// types and bias presence, which one fused QKV launch replaces; empty if
/// `op` is not one of exactly three such ops.
SmallVector<ProjectOp, 3> qkvGroup(ProjectOp op);

/// The ring.output_all_reduce that `op`'s partial feeds when the rank has
/// nothing to reduce (its function's plan has one head group and one dim
/// slice, and the partial has no other use): the output GEMM then writes Y
/// itself (GemmKind::OutProjectY) and the all-reduce launches nothing.
/// Null otherwise.
OutputAllReduceOp directOutput(OutProjectOp op);

class GpuModuleBuilder {
public:
  explicit GpuModuleBuilder(const TargetInfo &target) : target(target) {}

  /// Overrides the default tiles (0 keeps the per-head-dim default).
  void setTileOverrides(int warps, int blockN) {
    warpsOverride = warps;
    blockNOverride = blockN;
  }

  /// Which block-attention kernel collect() and the launch use.
  void setAttentionKernel(AttentionKernelKind kind) { attentionKind = kind; }
  /// The kernel kind of --gpu-kernel=`option` for the device ops under
  /// `root`: selectAttentionKernel's, except that "auto" on sm_90a takes
  /// mma.sync when some block-attention op (forward or backward) has no
  /// wgmma kernel but has an mma.sync one (e.g. a head dim that is not a
  /// multiple of 16), with a remark on that op giving wgmma's reason when
  /// `remark` is set. An explicit "wgmma" keeps refusing such blocks.
  std::optional<AttentionKernelKind>
  resolveAttentionKernel(Operation *root, StringRef option, bool remark,
                         std::string &error);
  AttentionKernelKind attentionKernel() const { return attentionKind; }

  /// The kernel variant of a block_attention op (mma.sync / wgmma).
  AttentionKernelConfig configFor(BlockAttentionOp op) const;
  /// The kernel variant of the accumulating form (fused merge).
  AttentionKernelConfig configFor(BlockAttentionAccumulateOp op) const;
  WgmmaAttentionConfig wgmmaConfigFor(BlockAttentionOp op) const;
  WgmmaAttentionConfig wgmmaConfigFor(BlockAttentionAccumulateOp op) const;

  /// The kernel variants of the dim-slice ops.
  BlockScoresKernelConfig configFor(BlockScoresOp op) const;
  SoftmaxVKernelConfig configFor(BlockSoftmaxVOp op) const;
  /// The backward kernels' variant of a block_attention_backward op.
  BackwardKernelConfig configFor(BlockAttentionBackwardOp op) const;
  /// The same op with dim slices (scores given): the SIMT kernels.
  SliceBackwardKernelConfig
  sliceBackwardConfigFor(BlockAttentionBackwardOp op) const;
  /// The whole layer's kernels (GemmKernel.cpp).
  GemmKernelConfig configFor(ProjectOp op) const;
  GemmKernelConfig configFor(OutProjectOp op) const;
  GemmKernelConfig configFor(OutputAllReduceOp op) const;
  GemmKernelConfig configFor(OutputReduceScatterOp op) const;
  /// The fused QKV variant of a ring.project that qkvGroup() puts in a
  /// group.
  GemmKernelConfig qkvConfigFor(ProjectOp op) const;

  /// Collects the variants of every device op under `root`, tags each op
  /// with `ring.gpu_kernel`, and emits an error for every op the GPU target
  /// cannot run. Fails if any error was emitted.
  LogicalResult collect(Operation *root);

  /// Adds a kernel variant directly (tools and tests); returns its name.
  std::string addAttention(const AttentionKernelConfig &config);
  std::string addWgmmaAttention(const WgmmaAttentionConfig &config);
  /// Adds the dim-slice kernels (tools and tests); return their names.
  std::string addBlockScores(const BlockScoresKernelConfig &config);
  std::string addSoftmaxV(const SoftmaxVKernelConfig &config);
  /// Adds the two backward kernels (tools and tests).
  void addBackward(const BackwardKernelConfig &config);
  /// Adds the two dim-slice backward kernels (tools and tests).
  void addSliceBackward(const SliceBackwardKernelConfig &config);
  /// Adds the backward's elementwise kernels for input type `dtype`.
  void addGradRowKernels(StringRef dtype);
  /// Adds a layer kernel (tools and tests); returns its name.
  std::string addGemm(const GemmKernelConfig &config);
  /// Adds the fill, merge and finalize kernels for output type `dtype`.
  void addRowKernels(StringRef dtype);

  /// Builds (or replaces) `gpu.module @ringc_kernels` in `module` and marks
  /// the module as a `gpu.container_module`.
  LogicalResult build(ModuleOp module);

  /// The text of the gpu.module (for tests and the artifact writer).
  std::string moduleText() const;

private:
  /// Adds kernel `name` (generated by `text`) unless it is already there.
  void add(const std::string &name, const std::function<std::string()> &text);

  const TargetInfo &target;
  int warpsOverride = 0, blockNOverride = 0;
  AttentionKernelKind attentionKind = AttentionKernelKind::mma;
  /// Kernel name -> gpu.func text, in first-use order.
  std::vector<std::pair<std::string, std::string>> kernels;
  llvm::StringSet<> kernelNames;
};

} // namespace mlir::ring::gpu

#endif // RINGC_CODEGEN_GPU_GPUMODULEBUILDER_H
