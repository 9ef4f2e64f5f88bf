//===- CpuVariants.cpp - kernel variants per x86 ISA level ------*- C++ -*-===//
//
// This file implements the table of ISA levels of CPU artifacts.
//
// Tile shapes: the attention kernel keeps `queryTile` rows × 16 keys of
// scores (and rows × 16 head-dim columns of the output) in vector
// accumulators. Under AVX2 a vector<16xf32> is two ymm of 16, so 6 rows
// are 12 accumulators plus the K/V vector and a broadcast. Under AVX-512 it
// is one zmm of 32, and 16 rows are 16 accumulators, each FMA taking its
// query element (or probability) as an embedded broadcast from memory; 16
// rows measured 3–12 % faster than 12 on AMD Zen 4 (bench/NOTES.md).
//
// avx512bf16 (Cooper Lake, Zen 4 and later) is avx512 with the scores
// Q·Kᵀ of bf16 inputs as vdpbf16ps dot products of bf16 pairs (see
// AttentionKernel.cpp); only bf16 artifacts carry it.
//
// AMX (tile matrix multiply) is not among them: the machines this was
// built and measured on (AMD Zen 4/5) have no AMX, so a variant for it
// could not be tested; LLVM 22 supports it (x86 feature amx-bf16).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuVariants.h"
#include "codegen/cpu/CpuPipeline.h"
#include "codegen/cpu/ObjectEmitter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

using namespace mlir;
using namespace mlir::ring::cpu;

static const CpuVariant kVariants[] = {
    {"avx512bf16", "cooperlake", 16, 512, /*bf16Dot=*/true},
    {"avx512", "skylake-avx512", 16, 512},
    {"avx2", kDefaultCpu, kDefaultQueryTile, 256},
};

bool mlir::ring::cpu::appliesTo(const CpuVariant &variant, Type elementType) {
  return !variant.bf16Dot || elementType.isBF16();
}

ArrayRef<CpuVariant> mlir::ring::cpu::defaultCpuVariants() { return kVariants; }

const CpuVariant *mlir::ring::cpu::lookupCpuVariant(StringRef name) {
  for (const CpuVariant &v : kVariants)
    if (name == v.name)
      return &v;
  return nullptr;
}

void mlir::ring::cpu::compileForVariant(func::FuncOp fn,
                                        const CpuVariant &variant) {
  Builder b(fn.getContext());
  std::string bits = std::to_string(variant.vectorBits);
  fn->setAttr("target_cpu", b.getStringAttr(variant.cpu));
  // LLVM's Intel AVX-512 tunings prefer 256-bit vectors and would split
  // every vector<16xf32> into two ymm halves.
  fn->setAttr("passthrough",
              b.getArrayAttr(
                  {b.getStrArrayAttr({"prefer-vector-width", bits}),
                   b.getStrArrayAttr({"min-legal-vector-width", bits})}));
}

std::string
mlir::ring::cpu::cpuVariantTable(ArrayRef<const CpuVariant *> variants) {
  std::string out;
  for (const CpuVariant *v : variants)
    out += (out.empty() ? "" : ";") + std::string(v->name) + ":" +
           hostFeatureList(v->cpu);
  return out;
}
