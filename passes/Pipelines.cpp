//===- Pipelines.cpp - ringc phases and named pipelines ---------*- C++ -*-===//
//
// This file implements the phase table and the pipeline builder that both
// `ringc --compile-to` and the `ring-opt --ring-to-<phase>` pipelines use.
//
//===----------------------------------------------------------------------===//

#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::ring;

ArrayRef<PhaseInfo> mlir::ring::allPhases() {
  static const PhaseInfo phases[] = {
      {Phase::Spec, "spec", "the verified spec module", true},
      {Phase::Partitioned, "partitioned", "the per-rank SPMD program", false},
      {Phase::Scheduled, "scheduled",
       "the P-stage ring schedule with online-softmax merges", false},
      {Phase::Overlapped, "overlapped",
       "async K/V shifts overlapped with compute, double buffers", false},
      {Phase::Target, "target", "target dialects (vector/scf or gpu/nvvm)",
       false},
      {Phase::LLVM, "llvm", "the LLVM dialect", false},
      {Phase::Binary, "binary", "PTX (GPU targets) or an object file (cpu)",
       false},
  };
  return phases;
}

std::optional<Phase> mlir::ring::parsePhase(StringRef name) {
  for (const PhaseInfo &info : allPhases())
    if (info.name == name)
      return info.phase;
  if (name == "ptx" || name == "obj")
    return Phase::Binary;
  return std::nullopt;
}

const PhaseInfo &mlir::ring::phaseInfo(Phase phase) {
  return allPhases()[static_cast<size_t>(phase)];
}

LogicalResult mlir::ring::buildPipelineToPhase(OpPassManager &pm, Phase phase,
                                               const PipelineOptions &options,
                                               std::string &error) {
  if (!phaseInfo(phase).available) {
    error = ("phase '" + phaseInfo(phase).name +
             "' is not implemented in this build of ringc yet")
                .str();
    return failure();
  }
  pm.addPass(createRingVerifyShardingsPass());
  return success();
}

void mlir::ring::registerRingPipelines() {
  for (const PhaseInfo &info : allPhases()) {
    if (!info.available)
      continue;
    Phase phase = info.phase;
    PassPipelineRegistration<>(
        ("ring-to-" + info.name).str(),
        ("Lower ring.attention specs to " + info.description).str(),
        [phase](OpPassManager &pm) {
          std::string error;
          (void)buildPipelineToPhase(pm, phase, PipelineOptions(), error);
        });
  }
}
