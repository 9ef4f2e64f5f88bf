//===- Pipelines.cpp - ringc phases and named pipelines ---------*- C++ -*-===//
//
// This file implements the phase table and the pipeline builder that both
// `ringc --compile-to` and the `ring-opt --ring-to-<phase>` pipelines use.
//
//===----------------------------------------------------------------------===//

#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringMap.h"

#include <atomic>
#include <map>
#include <mutex>

using namespace mlir;
using namespace mlir::ring;

ArrayRef<PhaseInfo> mlir::ring::allPhases() {
  static const PhaseInfo phases[] = {
      {Phase::Spec, "spec", "the verified spec module", true},
      {Phase::Partitioned, "partitioned", "the per-rank SPMD program", true},
      {Phase::Scheduled, "scheduled",
       "the P-stage ring schedule with online-softmax merges", true},
      {Phase::Overlapped, "overlapped",
       "async K/V shifts overlapped with compute, double buffers, merges "
       "fused into the block kernels",
       true},
      {Phase::Target, "target",
       "target dialects (cpu: vector/scf kernels and ringrt calls; GPU: "
       "gpu.module kernels in nvvm, host launches)",
       true},
      {Phase::LLVM, "llvm", "the LLVM dialect (host code, PTX embedded)",
       true},
      {Phase::Binary, "binary",
       "the LLVM module the object is emitted from (ringc -o DIR writes "
       "the object, library and PTX)",
       true},
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

/// The code generators' pipelines, by target name.
static llvm::StringMap<TargetPipelineBuilder> &targetPipelineBuilders() {
  static llvm::StringMap<TargetPipelineBuilder> builders;
  return builders;
}

void mlir::ring::registerTargetPipelineBuilder(StringRef target,
                                               TargetPipelineBuilder builder) {
  targetPipelineBuilders()[target] = std::move(builder);
}

LogicalResult mlir::ring::buildPipelineToPhase(OpPassManager &pm, Phase phase,
                                               const PipelineOptions &options,
                                               std::string &error) {
  // An input already at (or past) the phase needs no passes; a spec always
  // gets verified, and so does a per-rank schedule: hand-written or edited
  // per-rank IR is checked whatever phase it starts from, because nothing
  // later could tell a broken schedule from a working one.
  if (options.inputPhase > Phase::Spec && options.inputPhase >= phase) {
    if (options.inputPhase >= Phase::Scheduled && options.verifyPerRankInput)
      pm.addPass(createRingVerifySchedulePass());
    return success();
  }
  // The phases after overlapped belong to the target's code generator; the
  // target-independent phases run first unless the input is past them.
  if (phase > Phase::Overlapped) {
    auto it = targetPipelineBuilders().find(options.target);
    if (it == targetPipelineBuilders().end()) {
      error = ("phase '" + phaseInfo(phase).name +
               "' is not implemented for --target=" + options.target +
               " in this build of ringc yet")
                  .str();
      return failure();
    }
    if (failed(buildPipelineToPhase(pm, Phase::Overlapped, options, error)))
      return failure();
    return it->second(pm, phase, options, error);
  }
  if (!phaseInfo(phase).available) {
    error = ("phase '" + phaseInfo(phase).name +
             "' is not implemented in this build of ringc yet")
                .str();
    return failure();
  }
  pm.addPass(createRingVerifyShardingsPass());
  if (phase >= Phase::Partitioned)
    pm.addPass(createRingPartitionPass());
  if (phase >= Phase::Scheduled) {
    pm.addPass(createRingSchedulePass());
    RingScheduleBackwardPassOptions backward;
    backward.gradComm = options.gradComm;
    pm.addPass(createRingScheduleBackwardPass(backward));
  }
  if (phase >= Phase::Overlapped && options.overlap)
    pm.addPass(createRingOverlapPass());
  // Fusion ends the overlapped phase: the scheduled phase keeps the
  // reference form (block + merge), and ring-overlap sees the same
  // buffers either way (the fused op reads K/V as the block did).
  if (phase >= Phase::Overlapped && options.fuseMerge)
    pm.addPass(createRingFuseMergePass());
  // The checker proves whatever schedule the phase ends with.
  if (phase >= Phase::Scheduled)
    pm.addPass(createRingVerifySchedulePass());
  return success();
}

namespace {
/// Counts the errors emitted while a pass runs; a pass that fails without
/// one gets an error naming it, at the op it ran on. Upstream passes
/// (conversions especially) may signal failure silently, and "lowering
/// failed" alone does not tell a user what to change.
class FailureReporter : public PassInstrumentation {
public:
  explicit FailureReporter(MLIRContext *ctx) : ctx(ctx) {
    handler = ctx->getDiagEngine().registerHandler([this](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        ++errors;
      return failure(); // the other handlers still print it
    });
  }
  ~FailureReporter() override { ctx->getDiagEngine().eraseHandler(handler); }

  void runBeforePass(Pass *pass, Operation *op) override {
    std::lock_guard<std::mutex> lock(mutex);
    start[{pass, op}] = errors.load();
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    std::lock_guard<std::mutex> lock(mutex);
    start.erase({pass, op});
  }
  void runAfterPassFailed(Pass *pass, Operation *op) override {
    int64_t before;
    {
      std::lock_guard<std::mutex> lock(mutex);
      before = start[{pass, op}];
      start.erase({pass, op});
    }
    if (errors.load() != before)
      return;
    StringRef name = pass->getArgument();
    if (name.empty())
      name = pass->getName();
    op->emitError() << "pass '" << name << "' failed on '" << op->getName()
                    << "' without saying why; this is a bug in ringc, "
                       "please report it with this input";
  }

private:
  MLIRContext *ctx;
  DiagnosticEngine::HandlerID handler;
  std::atomic<int64_t> errors{0};
  std::mutex mutex;
  std::map<std::pair<Pass *, Operation *>, int64_t> start;
};
} // namespace

void mlir::ring::addFailureReporting(PassManager &pm) {
  pm.addInstrumentation(std::make_unique<FailureReporter>(pm.getContext()));
}

namespace {
/// The options of the `ring-to-<phase>` pipelines (a subset of
/// PipelineOptions), e.g. `--ring-to-overlapped="fuse-merge=false"`.
struct RingPipelineCLOptions
    : public PassPipelineOptions<RingPipelineCLOptions> {
  Option<bool> overlap{*this, "overlap",
                       llvm::cl::desc("Run ring-overlap (async shifts)"),
                       llvm::cl::init(true)};
  Option<bool> fuseMerge{
      *this, "fuse-merge",
      llvm::cl::desc("Run ring-fuse-merge (merges in the block kernels)"),
      llvm::cl::init(true)};
  Option<std::string> gradComm{
      *this, "grad-comm",
      llvm::cl::desc("Element type of the backward ring's travelling dK/dV "
                     "accumulators: fp32 or bf16"),
      llvm::cl::init("fp32")};
};
} // namespace

void mlir::ring::registerRingPipelines() {
  for (const PhaseInfo &info : allPhases()) {
    if (!info.available)
      continue;
    Phase phase = info.phase;
    PassPipelineRegistration<RingPipelineCLOptions>(
        ("ring-to-" + info.name).str(),
        ("Lower ring.attention specs to " + info.description).str(),
        [phase](OpPassManager &pm, const RingPipelineCLOptions &cl) {
          PipelineOptions options;
          options.overlap = cl.overlap;
          options.fuseMerge = cl.fuseMerge;
          options.gradComm = cl.gradComm;
          std::string error;
          (void)buildPipelineToPhase(pm, phase, options, error);
        });
  }
}
