//===- CpuVariants.h - kernel variants per x86 ISA level --------*- C++ -*-===//
//
// This file declares the ISA levels a CPU artifact carries kernels for when
// ringc is not pinned to one CPU (--cpu): each level has its own copy of
// the per-rank function and its kernels, compiled for that level with tile
// shapes that fill its register file, and the entry point runs the best
// one the running CPU supports (ringrt_cg_select_cpu_variant).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_CPUVARIANTS_H
#define RINGC_CODEGEN_CPU_CPUVARIANTS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::ring::cpu {

/// One ISA level.
struct CpuVariant {
  /// Short name: the symbol suffix of its functions, RINGRT_CPU_VARIANT's
  /// value, the manifest's.
  const char *name;
  /// The LLVM -mcpu its functions are compiled for; the running CPU needs
  /// its features (hostFeatureList).
  const char *cpu;
  /// Query rows per tile of the attention kernel.
  int64_t queryTile;
  /// Widest vector the code may use in bits; 512 overrides the 256-bit
  /// preference LLVM's Intel AVX-512 tunings have, so that vector<16xf32>
  /// is one zmm register rather than two ymm.
  int64_t vectorBits;
  /// The attention kernel computes bf16 Q·Kᵀ with AVX512_BF16 dot products
  /// (vdpbf16ps on bf16 pairs, fp32 accumulation). Such a variant is only
  /// carried by bf16 artifacts (appliesTo).
  bool bf16Dot = false;
};

/// Whether an artifact whose tensors have `elementType` carries `variant`.
bool appliesTo(const CpuVariant &variant, Type elementType);

/// The levels an artifact built without --cpu carries, best first; the
/// last is the baseline the entry itself is compiled for (kDefaultCpu).
ArrayRef<CpuVariant> defaultCpuVariants();

/// The variant named `name`, or null.
const CpuVariant *lookupCpuVariant(StringRef name);

/// The selection table ringrt_cg_select_cpu_variant takes:
/// "name:feature,feature;name:...", best first.
std::string cpuVariantTable(ArrayRef<const CpuVariant *> variants);

/// Compiles `fn` for `variant`: the LLVM function attributes target_cpu and
/// (passthrough) the vector widths, which func-to-llvm carries over to the
/// llvm.func; the object emitter keeps a function's own target-cpu.
void compileForVariant(func::FuncOp fn, const CpuVariant &variant);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_CPUVARIANTS_H
