//===- ObjectEmitter.cpp - LLVM dialect to a host object file ---*- C++ -*-===//
//
// This file implements the last step of the CPU target: MLIR's LLVM dialect
// → llvm::Module → the new pass manager's O3 pipeline → machine code in
// memory through llvm::TargetMachine (no llc, no C compiler).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/TargetParser/X86TargetParser.h"

using namespace mlir;
using namespace mlir::ring;

std::string mlir::ring::cpu::resolveCpuName(StringRef cpu) {
  if (cpu.empty() || cpu == "native")
    return llvm::sys::getHostCPUName().str();
  return cpu.str();
}

std::string mlir::ring::cpu::hostFeatureList(StringRef cpu) {
  // The features ringrt can check with __builtin_cpu_supports.
  static const char *const checkable[] = {
      "sse3",     "ssse3",    "sse4.1",   "sse4.2",     "popcnt",
      "avx",      "avx2",     "fma",      "f16c",       "bmi",
      "bmi2",     "avx512f",  "avx512bw", "avx512dq",   "avx512vl",
      "avx512cd", "avx512vnni", "avx512bf16", "avx512fp16"};
  SmallVector<StringRef> features;
  llvm::X86::getFeaturesForCPU(resolveCpuName(cpu), features,
                               /*NeedPlus=*/false);
  std::string out;
  for (const char *f : checkable)
    if (llvm::is_contained(features, StringRef(f)))
      out += (out.empty() ? "" : ",") + std::string(f);
  return out;
}

LogicalResult mlir::ring::cpu::emitHostObject(ModuleOp module, StringRef cpu,
                                              SmallVectorImpl<char> &object,
                                              std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  if (triple.getArch() != llvm::Triple::x86_64) {
    error = "the CPU target emits x86-64 code, but this host is '" +
            triple.str() + "'";
    return failure();
  }
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target) {
    error = "no LLVM target for '" + triple.str() + "': " + lookupError;
    return failure();
  }
  std::string cpuName = resolveCpuName(cpu);
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, cpuName, ""));
  if (!subtarget || !subtarget->isCPUStringValid(cpuName)) {
    error = "unknown cpu '" + cpuName + "' for " + triple.str();
    return failure();
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, /*Features=*/"", targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for " + triple.str();
    return failure();
  }

  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "ringc");
  if (!llvmModule) {
    error = "translation of the LLVM dialect to LLVM IR failed";
    return failure();
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  // Every function is compiled for the chosen CPU, so that the O3
  // vectorizers see its vector width (AVX2: 256 bits) and FMA.
  std::string features = machine->getTargetFeatureString().str();
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    // The functions of an ISA variant have theirs (CpuVariants.h).
    if (fn.hasFnAttribute("target-cpu"))
      continue;
    fn.addFnAttr("target-cpu", cpuName);
    if (!features.empty())
      fn.addFnAttr("target-features", features);
  }

  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(machine.get());
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*llvmModule, mam);
  }
  if (llvm::verifyModule(*llvmModule, &llvm::errs())) {
    error = "the optimised LLVM module does not verify";
    return failure();
  }

  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the target machine cannot emit object files";
    return failure();
  }
  codegen.run(*llvmModule);
  return success();
}
