//===- CpuPipeline.h - the CPU target's passes after overlap ----*- C++ -*-===//
//
// This file declares the passes of the CPU target from the overlapped phase
// to the `target` phase (scf/vector) and the `llvm` phase (LLVM dialect),
// and their registration as the "cpu" target pipeline of Pipelines.h and as
// the ring-opt pipeline `ring-cpu-to-llvm`.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_CPUPIPELINE_H
#define RINGC_CODEGEN_CPU_CPUPIPELINE_H

#include "passes/Pipelines.h"

namespace mlir::ring::cpu {

/// The host CPU the object code is tuned for when none is given. Haswell is
/// the oldest x86-64 with AVX2, FMA and F16C: f16 ⇄ f32 conversions are
/// single instructions (vcvtph2ps / vcvtps2ph), so no compiler-rt libcall
/// (__extendhfsf2, __truncsfhf2) is left for the linker.
constexpr const char *kDefaultCpu = "haswell";

/// Query rows per tile of the attention kernel when none is given: 6 rows ×
/// vector<16xf32> (two ymm) are 12 accumulators, which with the K (or V)
/// vector and a broadcast fill the 16 AVX2 registers without spilling and
/// keep more than the 8 FMAs in flight that the FMA latency needs.
constexpr int64_t kDefaultQueryTile = 6;

/// Options of the CPU target.
struct CpuTargetOptions {
  /// Query rows per tile of the attention kernel.
  int64_t queryTile = kDefaultQueryTile;
  /// x86 features the entry point checks the running CPU for
  /// (hostFeatureList); empty: no check.
  std::string hostFeatures;
  /// ISA variants, comma-separated, best first (CpuVariants.h); empty: one
  /// set of kernels, for the object's CPU, with queryTile.
  std::string cpuVariants;
};

/// Adds the passes that take an overlapped module to the target phase
/// (convert-ring-to-cpu and cleanups).
void buildCpuTargetPipeline(OpPassManager &pm, const CpuTargetOptions &opts);

/// Adds the passes that take a target-phase module to the LLVM dialect.
void buildCpuToLLVMPipeline(OpPassManager &pm);

/// Registers the "cpu" target with buildPipelineToPhase and the ring-opt
/// pipeline `ring-cpu-to-llvm` (overlapped → LLVM dialect).
void registerCpuTarget();

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_CPUPIPELINE_H
