//===- ringc.cpp - the ringc compiler driver --------------------*- C++ -*-===//
//
// This file implements `ringc`: it reads a spec (an MLIR file, or the
// one-line `--spec "K=V,..."` form), verifies it, and runs the pipeline to
// the phase `--compile-to` names (printing that phase's MLIR) or to the
// artifacts of `--target` in `-o DIR`.
//
//===----------------------------------------------------------------------===//

#include "codegen/Artifacts.h"
#include "codegen/InputPhase.h"
#include "codegen/cpu/CpuPipeline.h"
#include "codegen/cpu/CpuVariants.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "codegen/gpu/GpuPipeline.h"
#include "codegen/gpu/PtxSerializer.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingDialect.h"
#include "dialect/RingOps.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "tools/ringc/Explain.h"
#include "tools/ringc/SpecString.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <csignal>

using namespace mlir;
using namespace mlir::ring;
namespace cl = llvm::cl;

static cl::OptionCategory ringcCat("ringc options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("[spec.mlir]"), cl::init(""),
                                      cl::cat(ringcCat));
static cl::opt<std::string>
    specText("spec", cl::desc("One-line spec \"K=V,...\" (keys below) "
                              "instead of an MLIR file"),
             cl::value_desc("K=V,..."), cl::init(""), cl::cat(ringcCat));
static cl::opt<std::string>
    targetName("target", cl::desc("Target: cpu, sm_90a (H100), sm_80 "
                                  "(A100-class) or another sm_NN[a], NN >= 80"),
               cl::value_desc("T"), cl::init("cpu"), cl::cat(ringcCat));
static cl::opt<std::string> outputDir("o",
                                      cl::desc("Artifact directory to write"),
                                      cl::value_desc("DIR"), cl::init(""),
                                      cl::cat(ringcCat));
static cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("The x86-64 CPU the host code is compiled for (any LLVM -mcpu "
             "name; native: this machine; x86-64: any x86-64). Without it, "
             "a cpu artifact carries kernels for AVX-512 and AVX2 and runs "
             "the best the running CPU supports (RINGRT_CPU_VARIANT picks "
             "one), its entry compiled for haswell, the oldest with AVX2, FMA "
             "and F16C; with it, one set of kernels for that CPU. The entry "
             "point checks the running CPU"),
    cl::value_desc("NAME"), cl::init(cpu::kDefaultCpu), cl::cat(ringcCat));
static cl::opt<std::string> funcName(
    "name", cl::desc("Name of the function built from --spec, and of the "
                     "artifact (default attn)"),
    cl::init("attn"), cl::cat(ringcCat));

/// The --compile-to help: every phase in order. Static because cl::desc
/// keeps a reference.
static const std::string &phaseHelp() {
  static const std::string help = [] {
    std::string s = "Print the MLIR of a phase and stop. Phases, in order:";
    for (const PhaseInfo &info : allPhases())
      s += "\n    " + info.name.str() + ": " + info.description.str() +
           (info.available ? "" : " (not implemented yet)");
    return s;
  }();
  return help;
}
static cl::opt<std::string> compileTo("compile-to", cl::desc(phaseHelp()),
                                      cl::value_desc("PHASE"), cl::init(""),
                                      cl::cat(ringcCat));

static cl::opt<std::string> gradComm(
    "grad-comm", cl::init("fp32"),
    cl::desc("With grad=1: element type of the dK/dV accumulators that travel "
             "the backward ring, fp32 (default) or bf16 (half the bytes)"));

static cl::opt<bool> noOverlap(
    "no-overlap",
    cl::desc("Do not overlap K/V transfers with compute (every shift "
             "blocks); for debugging and for measuring overlap"),
    cl::init(false), cl::cat(ringcCat));

static cl::opt<bool> noFuseMerge(
    "no-fuse-merge",
    cl::desc("Do not fuse the online-softmax merges into the block kernels "
             "(every block writes an fp32 partial that a separate merge "
             "reads back); for comparison"),
    cl::init(false), cl::cat(ringcCat));

static cl::opt<std::string> gpuKernel(
    "gpu-kernel",
    cl::desc("GPU targets: the block-attention kernel. mma: mma.sync "
             "(FlashAttention-2 style, every sm_80+ target); wgmma: TMA + "
             "wgmma, warp-specialized (FlashAttention-3 style, sm_90a only); "
             "auto: wgmma on sm_90a, mma elsewhere. The backward (grad=1) "
             "follows: its dQ and dK/dV kernels on mma.sync or on wgmma; so "
             "do the layer's projection GEMMs (d_model)"),
    cl::value_desc("auto|mma|wgmma"), cl::init("auto"), cl::cat(ringcCat));
static cl::opt<std::string> clusterName(
    "cluster",
    cl::desc("The cluster --explain / --auto plan for: dgx-h100, dgx-a100, "
             "cpu-local, or FILE.json (as `ring-run --calibrate` writes). "
             "Default: cpu-local for --target=cpu, dgx-a100 for sm_80, else "
             "dgx-h100; without --target, the cluster's own target"),
    cl::value_desc("C"), cl::init(""), cl::cat(ringcCat));
static cl::opt<bool> explain(
    "explain",
    cl::desc("Print every valid plan (ring x a2a x head_groups x dim_slices "
             "and causal layout) for the spec's rank count (ranks=N, or the "
             "grid given) with predicted time, bytes, exposed communication, "
             "memory, and why each loser lost; last line `ringc: CHOSEN "
             "<plan> predicted_ms=<x>`"),
    cl::init(false), cl::cat(ringcCat));
static cl::opt<bool> autoPlan(
    "auto",
    cl::desc("Compile the plan the cost model chooses (as --explain), as if "
             "its grid and shardings had been written in the spec"),
    cl::init(false), cl::cat(ringcCat));

static cl::extrahelp specHelp(specKeysHelp().data());

static int fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "ringc") << msg << "\n";
  return 1;
}

/// Registers the GPU target --target names (sm_90a, sm_80, any sm_NN[a]
/// with NN >= 80; TargetInfo), or reports an unknown one.
static LogicalResult checkTarget() {
  if (targetName == "cpu")
    return success();
  std::string why;
  if (succeeded(gpu::registerGpuTarget(targetName, why)))
    return success();
  fail("unknown --target '" + targetName +
       "'; valid targets: cpu, sm_90a, sm_80 (any sm_NN[a], NN >= 80): " +
       why);
  return failure();
}

/// The --spec, when given.
static std::optional<AttentionSpec> parsedSpec;

/// --explain / --auto: chooses the plan for the spec (or the file's single
/// ring.attention), prints the table for --explain, and for --auto replaces
/// `module` with the spec module of the chosen plan.
static LogicalResult planModule(MLIRContext &context,
                                llvm::SourceMgr &sourceMgr,
                                OwningOpRef<ModuleOp> &module) {
  auto error = [](const llvm::Twine &msg) {
    fail(msg);
    return failure();
  };
  AttentionSpec spec;
  std::optional<PlanShape> given;
  std::string name = funcName;
  int64_t ranks = 0;
  if (parsedSpec && parsedSpec->ranks) {
    spec = *parsedSpec;
    ranks = spec.ranks;
  } else {
    // The grid is given (grid keys or an .mlir file): explain the
    // alternatives for its rank count.
    // One ring.attention or one ring.attention_layer (the whole layer).
    SmallVector<Operation *> ops;
    module->walk([&](Operation *op) {
      if (isa<AttentionOp, AttentionLayerOp>(op))
        ops.push_back(op);
    });
    if (ops.size() != 1)
      return error("--explain / --auto plan one ring.attention or "
                   "ring.attention_layer; the input has " +
                   llvm::Twine(ops.size()));
    SymbolTableCollection symbols;
    FailureOr<AttentionPlan> plan =
        isa<AttentionOp>(ops[0])
            ? deriveAttentionPlan(cast<AttentionOp>(ops[0]), symbols)
            : deriveLayerPlan(cast<AttentionLayerOp>(ops[0]), symbols);
    if (failed(plan))
      return failure();
    if (auto func = ops[0]->getParentOfType<func::FuncOp>())
      if (!parsedSpec)
        name = func.getSymName().str();
    spec.dModel = plan->dModel;
    spec.bias = plan->bias;
    spec.layerOutput = stringifyLayerOutput(plan->layerOutput).str();
    spec.batch = plan->batch;
    spec.heads = plan->heads;
    spec.kvHeads = plan->kvHeads;
    spec.seq = plan->seq;
    spec.headDim = plan->headDim;
    spec.causal = plan->isCausal();
    spec.windowLeft = plan->windowLeft;
    spec.windowRight = plan->windowRight;
    spec.maxDocs = plan->maxDocs;
    spec.dtype = plan->dtypeName().str();
    spec.scale = plan->scale;
    ranks = plan->numRanks();
    given = PlanShape{plan->ring(), plan->a2a(), plan->headGroups(),
                      plan->dimSlices(), plan->balance};
  }

  // The cluster and the target the model assumes.
  bool targetGiven = targetName.getNumOccurrences() > 0;
  std::string cluster = clusterName;
  if (cluster.empty())
    cluster = !targetGiven || targetName == "cpu" ? "cpu-local"
              : StringRef(targetName).starts_with("sm_8") ? "dgx-a100"
                                                           : "dgx-h100";
  auto model = loadCluster(cluster);
  if (!model)
    return error(llvm::toString(model.takeError()));
  ExplainOptions options;
  options.cluster = std::move(*model);
  if (!targetGiven) {
    targetName = options.cluster.defaultTarget;
    if (failed(checkTarget()))
      return failure();
  }
  options.target = targetName;
  options.overlap = !noOverlap;
  options.fuseMerge = !noFuseMerge;
  options.print = explain;
  std::string why;
  // With --auto too, the table goes to stderr so stdout stays the MLIR.
  FailureOr<PlanShape> chosen =
      choosePlan(context, spec, ranks, options, given,
                 autoPlan ? llvm::errs() : llvm::outs(), why);
  if (failed(chosen))
    return error(why);
  if (!autoPlan)
    return success();
  if (!explain)
    llvm::errs() << "ringc: CHOSEN " << chosen->str() << "\n";
  spec.ranks = 0;
  spec.ring = chosen->ring;
  spec.headGroups = chosen->headGroups;
  spec.dimSlices = chosen->dimSlices;
  spec.a2a = chosen->a2a;
  spec.balance = stringifyBalance(chosen->layout).str();
  module = parseSpecModule(spec, name, sourceMgr, &context, "--auto");
  return success(static_cast<bool>(module));
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Past a file size limit (ulimit -f) a write must fail with EFBIG, which
  // the artifact writer reports, rather than kill ringc with SIGXFSZ and
  // leave its temporary directory behind.
  std::signal(SIGXFSZ, SIG_IGN);
  cpu::registerCpuTarget();
  gpu::registerGpuTargets();
  cl::HideUnrelatedOptions(ringcCat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "ringc: compile a distributed attention spec\n\n"
      "  ringc FILE.mlir --target=T -o DIR\n"
      "  ringc --spec \"K=V,...\" --target=T -o DIR\n"
      "  ringc ... --compile-to=PHASE   (prints that phase's MLIR)\n"
      "  ringc --spec \"...,ranks=N\" --cluster=C --explain | --auto\n");

  if (inputFile.empty() == specText.empty())
    return fail("give exactly one of a spec file or --spec \"K=V,...\"");
  if (failed(checkTarget()))
    return 1;
  std::optional<Phase> phase;
  if (!compileTo.empty()) {
    phase = parsePhase(compileTo);
    if (!phase)
      return fail("unknown phase '" + compileTo + "' for --compile-to\n" +
                  phaseHelp());
  } else if (outputDir.empty() && !(explain && !autoPlan)) {
    return fail("give -o DIR (the artifact directory) or --compile-to=PHASE");
  }
  // --explain alone prints the table and compiles nothing: an -o DIR would
  // silently stay empty.
  if (explain && !autoPlan && !outputDir.empty())
    return fail("--explain prints the plans and writes no artifact, so -o " +
                outputDir +
                " would stay empty; add --auto to also compile the chosen "
                "plan into it, or drop -o");

  DialectRegistry registry;
  registry.insert<RingDialect, shard::ShardDialect, func::FuncDialect>();
  // Inputs may already be per-rank programs (partitioned, scheduled or
  // overlapped), which use these dialects.
  registry.insert<arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect,
                  vector::VectorDialect, math::MathDialect,
                  cf::ControlFlowDialect, LLVM::LLVMDialect>();
  // GPU targets: the NVVM target attribute's serialization and the LLVM IR
  // translations gpu-module-to-binary needs.
  gpu::registerGpuTargetDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module;
  if (!specText.empty()) {
    auto spec = parseSpecString(specText);
    if (!spec)
      return fail(llvm::toString(spec.takeError()));
    if (spec->ranks && !explain && !autoPlan)
      return fail("spec key 'ranks' lets the compiler choose the grid: give "
                  "--explain or --auto, or the grid keys (ring, "
                  "head_groups, dim_slices) instead");
    parsedSpec = *spec;
    module = parseSpecModule(*spec, funcName, sourceMgr, &context);
  } else {
    std::string error;
    auto file = openInputFile(inputFile, &error);
    if (!file)
      return fail(error);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  }
  if (!module)
    return 1;
  if (explain || autoPlan) {
    if (failed(planModule(context, sourceMgr, module)))
      return 1;
    if (!autoPlan)
      return 0;
  }

  PassManager pm(&context);
  addFailureReporting(pm);
  PipelineOptions options;
  options.target = targetName;
  options.overlap = !noOverlap;
  options.gradComm = gradComm;
  options.fuseMerge = !noFuseMerge;
  options.inputPhase = detectInputPhase(*module);
  options.hostFeatures = cpu::hostFeatureList(cpuName);
  // Not pinned to one CPU: kernels for every ISA level, picked at run time.
  std::string cpuVariants;
  if (targetName == "cpu" && !cpuName.getNumOccurrences())
    for (const cpu::CpuVariant &v : cpu::defaultCpuVariants())
      cpuVariants += (cpuVariants.empty() ? "" : ",") + std::string(v.name);
  options.cpuVariants = cpuVariants;
  options.gpuKernel = gpuKernel;
  // Artifacts are written from the overlapped phase on (codegen/Artifacts.h).
  Phase goal = phase.value_or(Phase::Overlapped);
  std::string error;
  if (failed(buildPipelineToPhase(pm, goal, options, error)))
    return fail(error);
  if (failed(pm.run(*module)))
    return 1;
  if (phase) {
    module->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  ArtifactOptions artifact;
  artifact.target = targetName;
  artifact.cpu = cpuName;
  artifact.cpuVariants = cpuVariants;
  artifact.gpuKernel = gpuKernel;
  if (failed(writeArtifacts(*module, outputDir, artifact, error)))
    return fail(error);
  return 0;
}
