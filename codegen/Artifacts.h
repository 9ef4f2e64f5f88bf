//===- Artifacts.h - writing a ringc artifact directory ---------*- C++ -*-===//
//
// This file declares the artifact writer: from an overlapped module to
// DIR/NAME.h, DIR/NAME.o, DIR/libNAME.so and DIR/manifest.json (the schema
// of runtime/README.md that ring-run reads).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_ARTIFACTS_H
#define RINGC_CODEGEN_ARTIFACTS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::ring {

struct ArtifactOptions {
  /// cpu, or a GPU target registered with registerTargetPipelineBuilder
  /// (sm_90a, sm_80, ...), whose artifacts add NAME.ptx.
  std::string target = "cpu";
  /// The x86-64 CPU the object is compiled for (see cpu::kDefaultCpu).
  std::string cpu = "haswell";
  /// Query rows per tile of the attention kernel (see
  /// cpu::kDefaultQueryTile).
  int64_t queryTile = 6;
  /// GPU targets: the block-attention kernel, auto, mma or wgmma
  /// (ringc --gpu-kernel).
  std::string gpuKernel = "auto";
  /// The ISA variants of the CPU kernels, best first (cpu::CpuVariants.h),
  /// comma-separated: the entry runs the best the running CPU supports, and
  /// the entry itself is compiled for `cpu`. Empty: one set of kernels,
  /// compiled for `cpu` (ringc --cpu=NAME pins one).
  std::string cpuVariants;
};

/// Lowers `module` (at the overlapped phase, with exactly one per-rank
/// function carrying `ring.plan`) in place and writes the artifact directory
/// `dir`. The directory is assembled beside `dir` and renamed into place at
/// the end, so a failure never leaves half an artifact; an existing `dir`
/// is replaced only if it is empty or holds a manifest.json. On failure
/// returns failure with a message in `error` (diagnostics of the lowering
/// go to the context's handler).
LogicalResult writeArtifacts(ModuleOp module, StringRef dir,
                             const ArtifactOptions &options,
                             std::string &error);

} // namespace mlir::ring

#endif // RINGC_CODEGEN_ARTIFACTS_H
