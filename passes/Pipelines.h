//===- Pipelines.h - ringc phases and named pipelines -----------*- C++ -*-===//
//
// This file declares the ordered phases of the ringc pipeline, shared by
// `ringc --compile-to=PHASE` and the named pipelines of `ring-opt`, and the
// builder that populates a pass manager up to a phase.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_PASSES_PIPELINES_H
#define RINGC_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::ring {

/// The phases of the pipeline, in order (DESIGN.md section 2).
enum class Phase {
  Spec,        ///< the verified spec
  Partitioned, ///< per-rank SPMD program
  Scheduled,   ///< P-stage ring with merges
  Overlapped,  ///< async shifts and double buffers
  Target,      ///< target dialects (CPU: vector/scf; GPU: gpu/nvvm)
  LLVM,        ///< LLVM dialect
  Binary,      ///< PTX or object file
};

struct PhaseInfo {
  Phase phase;
  StringRef name;
  StringRef description;
  /// Whether this build of ringc implements the phase.
  bool available;
};

/// Every phase, in order.
ArrayRef<PhaseInfo> allPhases();
std::optional<Phase> parsePhase(StringRef name);
const PhaseInfo &phaseInfo(Phase phase);

/// Options shared by the driver and the ring-opt pipelines.
struct PipelineOptions {
  /// cpu, sm_90a or sm_80.
  std::string target = "cpu";
  /// The phase the input module is already at (see detectInputPhase in
  /// codegen/InputPhase.h); the passes of the phases up to it are skipped.
  Phase inputPhase = Phase::Spec;
  /// Whether ring-verify-schedule runs on per-rank input (scheduled or
  /// overlapped) that needs no schedule passes. Only a caller that has just
  /// run the checker on the same module (writeArtifacts) turns it off.
  bool verifyPerRankInput = true;
  /// Whether ring-overlap runs; without it every K/V shift blocks (for
  /// debugging and for measuring what overlap buys).
  bool overlap = true;
  /// Element type of the travelling dK/dV accumulators of the backward
  /// ring: "fp32" or "bf16" (ring-schedule-backward's grad-comm).
  std::string gradComm = "fp32";
  /// Whether ring-fuse-merge runs; without it every block writes an fp32
  /// partial that a separate ring.merge reads back (for comparison).
  bool fuseMerge = true;
  /// x86 features the generated entry point checks the running CPU for
  /// (codegen/cpu/ObjectEmitter.h hostFeatureList); empty: no check.
  std::string hostFeatures;
  /// CPU target: the ISA variants of the kernels, comma-separated, best
  /// first (codegen/cpu/CpuVariants.h); empty: one set, for the object's CPU.
  std::string cpuVariants;
  /// GPU targets: the block-attention kernel ("mma", "wgmma" or "auto";
  /// codegen/gpu/Kernels.h selectAttentionKernel).
  std::string gpuKernel = "auto";
};

/// Adds the passes that take a spec module to `phase`. Fails, with a message
/// in `error`, when the phase is not available in this build.
LogicalResult buildPipelineToPhase(OpPassManager &pm, Phase phase,
                                   const PipelineOptions &options,
                                   std::string &error);

/// Adds a target's passes for the phases after `overlapped` (target, llvm,
/// binary) to `pm`, for a module already at the overlapped phase.
using TargetPipelineBuilder = std::function<LogicalResult(
    OpPassManager &, Phase, const PipelineOptions &, std::string &)>;

/// Registers the code generator of `target` ("cpu", "sm_90a", ...) with
/// buildPipelineToPhase; code generators call it from their registration.
void registerTargetPipelineBuilder(StringRef target,
                                   TargetPipelineBuilder builder);

/// Makes every pass failure in `pm` carry a diagnostic: a pass that fails
/// without emitting an error gets one at the op it ran on, naming the pass.
void addFailureReporting(PassManager &pm);

/// Registers the named pipelines `ring-to-<phase>` with ring-opt.
void registerRingPipelines();

} // namespace mlir::ring

#endif // RINGC_PASSES_PIPELINES_H
