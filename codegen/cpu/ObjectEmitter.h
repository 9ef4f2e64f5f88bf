//===- ObjectEmitter.h - LLVM dialect to a host object file -----*- C++ -*-===//
//
// This file declares the translation of an LLVM-dialect module to LLVM IR,
// its O3 optimisation and the emission of an x86-64 ELF object with an
// in-process llvm::TargetMachine.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_CPU_OBJECTEMITTER_H
#define RINGC_CODEGEN_CPU_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::ring::cpu {

/// Translates `module` (LLVM dialect only), optimises it at O3 for `cpu`
/// ("haswell", "native", any -mcpu name of the host's target) and appends
/// the relocatable (PIC) object code to `object`. On failure returns
/// failure with a message in `error`.
LogicalResult emitHostObject(ModuleOp module, StringRef cpu,
                             SmallVectorImpl<char> &object,
                             std::string &error);

/// The resolved CPU name ("native" → the host's).
std::string resolveCpuName(StringRef cpu);

/// The x86 features of `cpu` (resolved as above) that the generated entry
/// point checks on the running CPU (ringrt_cg_check_cpu), comma-separated
/// in LLVM's spelling: the vector and bit-manipulation extensions beyond
/// baseline x86-64 that code generation may use.
std::string hostFeatureList(StringRef cpu);

} // namespace mlir::ring::cpu

#endif // RINGC_CODEGEN_CPU_OBJECTEMITTER_H
