//===- Explain.cpp - choosing and explaining a plan ------------*- C++ -*-===//
//
// This file implements the plan chooser. A candidate's validity is decided
// by the same rules as a hand-written spec: the candidate is rendered as a
// spec module and its plan derived by deriveAttentionPlan, whose first
// diagnostic becomes the rejection reason (the a2a rules included). The
// memory limit is checked here, through the cost model.
//
//===----------------------------------------------------------------------===//

#include "tools/ringc/Explain.h"

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/TargetInfo.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::ring;

namespace {
struct Row {
  PlanShape plan;
  Prediction pred;
  std::string rejected; ///< why the plan is invalid, or ""
  bool given = false;
};

/// The first error deriveAttentionPlan reports for `spec`, or "".
std::string specRuleError(MLIRContext &ctx, const AttentionSpec &spec) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && message.empty())
      message = d.str();
    return success();
  });
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module =
      parseSpecModule(spec, "candidate", sourceMgr, &ctx, "candidate");
  if (!module)
    return message.empty() ? "does not parse" : message;
  SymbolTableCollection symbols;
  module->walk([&](AttentionOp op) {
    if (failed(deriveAttentionPlan(op, symbols)) && message.empty())
      message = "invalid";
  });
  module->walk([&](AttentionLayerOp op) {
    if (failed(deriveLayerPlan(op, symbols)) && message.empty())
      message = "invalid";
  });
  for (StringRef prefix :
       {"'ring.attention' op ", "'ring.attention_layer' op "})
    if (StringRef(message).starts_with(prefix))
      message.erase(0, prefix.size());
  return message;
}

/// The GPU kernels' own rules (codegen/gpu/Kernels.h) for the per-rank
/// shapes of `candidate` on `target`; "" on the CPU target or when they hold.
/// `*mmaFallback` (when given) is set to why wgmma cannot take the
/// attention blocks when they run on mma.sync although wgmma is the
/// target's default.
std::string targetRuleError(const AttentionSpec &candidate, StringRef target,
                            std::string *mmaFallback = nullptr) {
  if (!target.starts_with("sm_"))
    return "";
  std::string error;
  auto info = gpu::TargetInfo::get(target, "", error);
  if (!info)
    return error;
  int64_t sliceDim = candidate.headDim / candidate.dimSlices;
  MaskKind mask = candidate.causal ? MaskKind::causal : MaskKind::none;
  Balance layout = *symbolizeBalance(candidate.effectiveBalance());
  gpu::AttentionKernelConfig mmaConfig;
  mmaConfig.headDim = sliceDim;
  mmaConfig.dtype = candidate.dtype;
  mmaConfig.mask = mask;
  mmaConfig.layout = layout;
  mmaConfig.tiles = gpu::defaultAttentionTiles(sliceDim);
  // The kernels ringc's default (--gpu-kernel=auto) generates: wgmma on
  // sm_90a, mma.sync elsewhere and where wgmma cannot take the attention
  // blocks but mma.sync can (GpuModuleBuilder::resolveAttentionKernel).
  auto kind = gpu::selectAttentionKernel("auto", *info, error);
  if (!kind)
    return error;
  bool wgmma = *kind == gpu::AttentionKernelKind::wgmma;
  std::string wgmmaError;
  if (wgmma && candidate.dimSlices == 1) {
    gpu::WgmmaAttentionConfig config =
        gpu::defaultWgmmaAttentionConfig(sliceDim);
    config.dtype = candidate.dtype;
    config.mask = mask;
    config.layout = layout;
    wgmmaError = config.validate(*info);
    if (!wgmmaError.empty() && mmaConfig.validate(*info).empty()) {
      wgmma = false;
      if (mmaFallback)
        *mmaFallback = wgmmaError;
    }
  }
  if (candidate.dModel > 0) {
    // The layer's GEMMs: rows B·L/P, columns and reduction d_model and the
    // rank's heads × Dl (codegen/gpu/GemmKernel.cpp).
    gpu::GemmKernelConfig gemm;
    gemm.dtype = candidate.dtype;
    gemm.wgmma = wgmma;
    gemm.setShape(candidate.dModel, sliceDim);
    if (std::string e = gemm.validate(*info); !e.empty())
      return e;
    int64_t rows = candidate.batch * (candidate.seq / candidate.ring);
    int64_t cols = candidate.heads / candidate.headGroups * sliceDim;
    if (std::string e = gemm.checkShape(rows, cols, candidate.dModel);
        !e.empty())
      return e;
    if (std::string e = gemm.checkShape(rows, candidate.dModel, cols);
        !e.empty())
      return e;
  }
  if (candidate.dimSlices == 1)
    return wgmma ? wgmmaError : mmaConfig.validate(*info);
  gpu::BlockScoresKernelConfig scores;
  scores.sliceDim = sliceDim;
  scores.dtype = candidate.dtype;
  error = scores.validate(*info);
  if (!error.empty())
    return error;
  gpu::SoftmaxVKernelConfig softmax;
  softmax.sliceDim = sliceDim;
  softmax.dtype = candidate.dtype;
  softmax.mask = mask;
  softmax.layout = layout;
  return softmax.validate(*info);
}

/// The kernel rates of a candidate: the mma.sync attention rate where
/// --gpu-kernel=auto falls back to it (targetRuleError's mmaFallback).
KernelModel candidateKernels(const KernelModel &kernels,
                             const std::string &mmaFallback) {
  KernelModel k = kernels;
  if (!mmaFallback.empty() && k.mmaAttentionFlops > 0)
    k.attentionFlops = k.mmaAttentionFlops;
  return k;
}

/// Megatron's tensor parallelism in the layer's terms: one ring rank, every
/// rank a head group (X replicated, W column-/row-split, Y all-reduced).
bool isTensorParallel(const PlanShape &plan) {
  return plan.ring == 1 && plan.a2a == 1 && plan.dimSlices == 1 &&
         plan.headGroups > 1;
}

/// The layout the papers compare against, TP = T within a node × PP = N / T
/// (Megatron: tensor parallelism inside the NVLink domain, pipeline stages
/// across nodes). Pipeline parallelism splits the layers, not a layer, so it
/// is not a plan of this one layer: the line gives the layer's time on its T
/// ranks and the per-layer time of all N ranks with PP stages in flight
/// (ignoring the pipeline bubble, which only makes it slower), beside the
/// chosen plan's. Printed only when N spans nodes and T is a valid plan.
void printTensorPipelineReference(MLIRContext &ctx, const AttentionSpec &spec,
                                  const ProblemShape &pb, int64_t ranks,
                                  const ExplainOptions &options,
                                  const KernelModel &kernels,
                                  const Prediction &chosen,
                                  llvm::raw_ostream &os) {
  const ClusterModel &cluster = options.cluster;
  const int64_t tp = cluster.devicesPerNode;
  if (ranks <= tp || ranks % tp != 0)
    return;
  const int64_t pp = ranks / tp;
  PlanShape plan{1, 1, tp, 1, Balance::none};
  AttentionSpec candidate = spec;
  candidate.ranks = 0;
  candidate.ring = 1;
  candidate.a2a = 1;
  candidate.headGroups = tp;
  candidate.dimSlices = 1;
  candidate.balance = stringifyBalance(Balance::none).str();
  std::string why = specRuleError(ctx, candidate);
  std::string mmaFallback;
  if (why.empty())
    why = targetRuleError(candidate, options.target, &mmaFallback);
  os << "reference: tensor-parallel " << tp << " x pipeline " << pp
     << " (PP splits the layers, not a layer): ";
  if (!why.empty()) {
    os << "not possible: " << why << "\n";
    return;
  }
  Prediction p = predictPlan(pb, plan, cluster,
                             candidateKernels(kernels, mmaFallback),
                             options.overlap, options.fuseMerge);
  if (p.peakMemory > cluster.deviceMemory) {
    os << "not possible: exceeds " << formatBytes(cluster.deviceMemory)
       << " (" << formatBytes(p.peakMemory) << " per rank)\n";
    return;
  }
  os << "the layer takes " << llvm::format("%.4g", p.totalTime * 1e3)
     << " ms on " << tp << " ranks, "
     << llvm::format("%.4g", p.totalTime * 1e3 / pp) << " ms per layer of "
     << ranks << " ranks with " << pp
     << " stages in flight (no bubble); chosen plan "
     << llvm::format("%.4g", chosen.totalTime * 1e3) << " ms ("
     << llvm::format("%.2f", p.totalTime / pp / chosen.totalTime)
     << "x)\n";
}

SmallVector<Balance> layoutsFor(const AttentionSpec &spec, int64_t ring) {
  if (!spec.balance.empty())
    return {*symbolizeBalance(spec.balance)};
  if (!spec.causal || ring == 1)
    return {Balance::none};
  return {Balance::zigzag, Balance::striped, Balance::none};
}
} // namespace

FailureOr<PlanShape> mlir::ring::choosePlan(MLIRContext &ctx,
                                            const AttentionSpec &spec,
                                            int64_t ranks,
                                            const ExplainOptions &options,
                                            std::optional<PlanShape> given,
                                            llvm::raw_ostream &os,
                                            std::string &error) {
  const ClusterModel &cluster = options.cluster;
  const KernelModel *kernels = cluster.kernelsFor(options.target);
  if (!kernels) {
    std::string targets;
    for (const auto &k : cluster.kernels)
      targets += (targets.empty() ? "" : ", ") + k.getKey().str();
    error = "cluster '" + cluster.name + "' has no kernel throughput for "
            "target '" + options.target + "' (it has: " + targets + ")";
    return failure();
  }
  if (ranks > cluster.maxRanks()) {
    error = "ranks=" + std::to_string(ranks) + " exceeds cluster '" +
            cluster.name + "' (" + std::to_string(cluster.nodes) +
            " nodes x " + std::to_string(cluster.devicesPerNode) +
            " devices = " + std::to_string(cluster.maxRanks()) + ")";
    return failure();
  }

  ProblemShape pb;
  pb.batch = spec.batch;
  pb.heads = spec.heads;
  pb.kvHeads = spec.effectiveKvHeads();
  pb.seq = spec.seq;
  pb.headDim = spec.headDim;
  pb.causal = spec.causal;
  pb.windowLeft = spec.windowLeft;
  pb.windowRight = spec.windowRight;
  pb.elementBytes = spec.dtype == "f32" ? 4 : 2;
  pb.dModel = spec.dModel;
  pb.scatterOutput = spec.layerOutput == "reduce_scatter";
  if (pb.dModel > 0 && !(kernels->gemmFlops > 0)) {
    error = "cluster '" + cluster.name + "' has no GEMM throughput for "
            "target '" + options.target + "' (kernels." + options.target +
            ".gemm_GFLOPs), so the layer's projections cannot be predicted; "
            "add it to the cluster file or rerun ring-run --calibrate";
    return failure();
  }

  std::vector<Row> rows;
  std::string wgmmaRefusal; // why auto runs some plans on mma.sync
  for (int64_t P = 1; P <= ranks; ++P) {
    if (ranks % P)
      continue;
    for (int64_t U = 1; U <= ranks / P; ++U) {
      if ((ranks / P) % U)
        continue;
      for (int64_t n = 1; n <= ranks / (P * U); ++n) {
        if ((ranks / (P * U)) % n)
          continue;
        int64_t m = ranks / (P * U * n);
        for (Balance layout : layoutsFor(spec, P)) {
          Row row;
          row.plan = {P, U, n, m, layout};
          if (given)
            row.given = given->ring == P && given->a2a == U &&
                        given->headGroups == n && given->dimSlices == m &&
                        (given->layout == layout || P == 1);
          AttentionSpec candidate = spec;
          candidate.ranks = 0;
          candidate.ring = P;
          candidate.headGroups = n;
          candidate.dimSlices = m;
          candidate.a2a = U;
          candidate.balance = stringifyBalance(layout).str();
          // The cost model's short a2a reasons ("a2a 16 > 8 heads") first,
          // then the full spec rules.
          row.rejected = checkLayer(pb, row.plan);
          if (row.rejected.empty())
            row.rejected = checkAllToAll(pb, row.plan);
          if (row.rejected.empty())
            row.rejected = specRuleError(ctx, candidate);
          std::string mmaFallback;
          if (row.rejected.empty())
            row.rejected =
                targetRuleError(candidate, options.target, &mmaFallback);
          if (row.rejected.empty()) {
            row.pred = predictPlan(pb, row.plan, cluster,
                                   candidateKernels(*kernels, mmaFallback),
                                   options.overlap, options.fuseMerge);
            if (!mmaFallback.empty())
              wgmmaRefusal = mmaFallback;
            if (row.pred.peakMemory > cluster.deviceMemory)
              row.rejected = "exceeds " + formatBytes(cluster.deviceMemory) +
                             " (" + formatBytes(row.pred.peakMemory) +
                             " per rank)";
          }
          rows.push_back(row);
        }
      }
    }
  }

  // Valid plans by predicted time (ties: fewer bytes, then enumeration
  // order), then the rejected ones.
  std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    if (a.rejected.empty() != b.rejected.empty())
      return a.rejected.empty();
    if (!a.rejected.empty())
      return false;
    if (a.pred.totalTime != b.pred.totalTime)
      return a.pred.totalTime < b.pred.totalTime;
    return a.pred.commBytes < b.pred.commBytes;
  });
  const Row *best = nullptr;
  for (const Row &r : rows)
    if (r.rejected.empty()) {
      best = &r;
      break;
    }
  if (!best) {
    error = "no valid plan for ranks=" + std::to_string(ranks) + ":";
    for (const Row &r : rows)
      error += "\n  " + r.plan.str() + ": " +
               r.rejected;
    return failure();
  }

  if (!options.print)
    return best->plan;

  const bool layer = pb.dModel > 0;
  os << "ringc: plans for batch=" << spec.batch << ",heads=" << spec.heads
     << ",kv_heads=" << pb.kvHeads << ",seq=" << spec.seq
     << ",head_dim=" << spec.headDim << ",causal=" << (spec.causal ? 1 : 0)
     << ",dtype=" << spec.dtype;
  if (layer)
    os << ",d_model=" << pb.dModel << " (the whole layer)";
  os << " on " << ranks << " ranks\n";
  os << "cluster " << cluster.name << ": " << cluster.nodes << " node(s) x "
     << cluster.devicesPerNode << " devices, intra "
     << formatBytes(cluster.intraNode.bandwidth) << "/s, inter "
     << formatBytes(cluster.interNode.bandwidth) << "/s, "
     << formatBytes(cluster.deviceMemory) << " per device; target "
     << options.target << ": attention "
     << llvm::format("%.4g", kernels->attentionFlops / 1e12)
     << " TFLOP/s, slices "
     << llvm::format("%.4g", kernels->sliceFlops / 1e12) << " TFLOP/s";
  if (layer)
    os << ", projection GEMMs "
       << llvm::format("%.4g", kernels->gemmFlops / 1e12) << " TFLOP/s";
  os << " (" << kernels->source << ")\n";
  if (!wgmmaRefusal.empty()) {
    os << "attention kernel: plans without dim slices run on mma.sync "
          "(--gpu-kernel=auto; wgmma: "
       << wgmmaRefusal << "), ";
    if (kernels->mmaAttentionFlops > 0)
      os << "modelled at "
         << llvm::format("%.4g", kernels->mmaAttentionFlops / 1e12)
         << " TFLOP/s\n";
    else
      os << "modelled at the attention rate above (the cluster gives no "
            "kernels." << options.target << ".mma_attention_GFLOPs)\n";
  }
  if (layer)
    os << "layer: projections of each rank's tokens before the ring, the "
          "output projection after it, fp32 Y "
       << (pb.scatterOutput
               ? "reduce-scattered onto the sequence ((k-1)/k of Y sent)"
               : "all-reduced (2(k-1)/k of Y sent)")
       << " over head groups x dim slices (blocking); ring=1,head_groups=N "
          "is Megatron's tensor parallelism\n";
  os << "model: per rank; head groups take head-sharded inputs, a2a "
        "sequence-sharded ones; "
     << (!options.overlap ? "no overlap (--no-overlap)"
         : cluster.commOverlapsCompute
             ? "K/V shifts overlap compute"
             : "K/V shifts do not progress during compute here (blocking)")
     << "\n";
  if (pb.hasWindow())
    os << "window: left " << pb.windowLeft << ", right " << pb.windowRight
       << " tokens (-1 unlimited): each plan runs only the ring stages whose "
          "blocks some rank sees and counts their visible pairs\n";
  // A layer adds two columns: the projections' time (inside compute_ms)
  // and the bytes of the Y all-reduce (inside comm).
  if (layer)
    os << llvm::format("%-66s %10s %10s %10s %10s %10s %10s %10s %6s  %s\n",
                       "plan", "pred_ms", "compute_ms", "proj_ms", "comm",
                       "Y_reduce", "exposed_ms", "memory", "imbal",
                       "verdict");
  else
    os << llvm::format("%-58s %10s %10s %10s %10s %10s %6s  %s\n", "plan",
                       "pred_ms", "compute_ms", "comm", "exposed_ms",
                       "memory", "imbal", "verdict");
  for (const Row &r : rows) {
    if (!r.rejected.empty())
      continue;
    std::string verdict;
    if (&r == best)
      verdict = "CHOSEN";
    else
      verdict = lossReason(r.plan, r.pred, best->pred);
    if (r.pred.kvReplicated)
      verdict += " (K/V heads replicated)";
    if (r.pred.ringStages < r.plan.ring)
      verdict += " (window: " + std::to_string(r.pred.ringStages) + " of " +
                 std::to_string(r.plan.ring) + " ring stages)";
    std::string name = r.plan.str() + (r.given ? " (given)" : "");
    if (layer && isTensorParallel(r.plan))
      name += " (tensor-parallel)";
    if (layer)
      os << llvm::format(
          "%-66s %10.4g %10.4g %10.4g %10s %10s %10.4g %10s %6.2f  %s\n",
          name.c_str(), r.pred.totalTime * 1e3, r.pred.computeTime * 1e3,
          r.pred.projectionTime * 1e3, formatBytes(r.pred.commBytes).c_str(),
          formatBytes(r.pred.outputReduceBytes).c_str(),
          r.pred.exposedComm * 1e3, formatBytes(r.pred.peakMemory).c_str(),
          r.pred.imbalance, verdict.c_str());
    else
      os << llvm::format("%-58s %10.4g %10.4g %10s %10.4g %10s %6.2f  %s\n",
                         name.c_str(), r.pred.totalTime * 1e3,
                         r.pred.computeTime * 1e3,
                         formatBytes(r.pred.commBytes).c_str(),
                         r.pred.exposedComm * 1e3,
                         formatBytes(r.pred.peakMemory).c_str(),
                         r.pred.imbalance, verdict.c_str());
  }
  bool anyRejected = false;
  for (const Row &r : rows) {
    if (r.rejected.empty())
      continue;
    if (!anyRejected)
      os << "rejected:\n";
    anyRejected = true;
    os << "  " << r.plan.str() << (r.given ? " (given)" : "") << ": "
       << r.rejected << "\n";
  }
  if (layer)
    printTensorPipelineReference(ctx, spec, pb, ranks, options, *kernels,
                                 best->pred, os);
  os << "ringc: CHOSEN " << best->plan.str() << " predicted_ms="
     << llvm::format("%.4g", best->pred.totalTime * 1e3) << "\n";
  return best->plan;
}
