//===- CostModel.cpp - predicted time, traffic and memory of a plan -*- C++ -*-===//
//
// This file implements the cost model. Notation: B batch, Hq/Hkv heads, L
// sequence, D head dim, e element bytes; plan P ring × U a2a × n head groups
// × m dim slices, N = P·U·n·m ranks. During attention a rank holds
// Hl = Hq/(n·U) query heads, Hkvl = max(1, Hkv/(n·U)) key/value heads (a2a
// replicates K/V heads when Hkv/n < U), Ll = L/P tokens and Dl = D/m columns.
//
// Compute, per ring stage t and ring rank r, over the block cases of
// BlockCases.h that apply to r (the same classification ring-schedule emits
// and ring-verify-schedule counts with emit-work). The stages are those of
// planRingStages: all P without a sliding window; with one, only those
// whose blocks some rank sees (0..A forward, then −1..−B backward), so a
// short window costs a halo exchange, not P − 1 shifts.
//   fused (m = 1):  4·B·Hl·D·visible(case) FLOPs at the target's attention
//                   rate, visible = qn·kn·visibleFraction (the kernel skips
//                   fully masked tiles); with a window, the exact visible
//                   pairs of the rank's token rows (countVisiblePairs);
//   dim slices:     2 × 2·B·Hl·qn·kn·Dl FLOPs (scores, then softmax·V; whole
//                   blocks) at the slice rate;
//   merge:          the fp32 rows of O and LSE, 4·B·Hl·qn·k·(Dl + 1) bytes
//                   at the memory bandwidth: k = 4 passes for a separate
//                   ring.merge (the kernel writes the partial, the merge
//                   reads it and reads and writes the accumulator), k = 2
//                   when ring-fuse-merge merges in the fused kernel's
//                   epilogue (the dim-slice path is never fused); fill and
//                   finalize once, 4·B·Hl·Ll·(2·Dl + 2).
// Ranks beyond the node's compute units share them (cpu-local runs 4 ranks
// on 2 cores): with share = ranks per node / compute units > 1, a rank that
// waits yields its core to the others, so the compute time is
// max(Σ_t max_r c(t, r), share · Σ_t mean_r c(t, r)) — the slowest rank's
// chain, or the node's total work spread over its units, whichever is
// longer. Load imbalance is then partly absorbed (measured: bench/NOTES.md
// "Cost model vs measurements"). With share <= 1 (a GPU per rank) this is
// the stage-synchronous Σ_t max_r.
//
// Communication, per stage:
//   K/V shift (every stage but the last): 2 messages of B·Hkvl·Ll·Dl·e bytes to the next ring
//                   rank; over the inter-node link when N exceeds a node (the
//                   ring is the outermost axis), else intra-node;
//   score all-reduce (m > 1): a ring all-reduce of S = 4·B·Hl·work(t, r)
//                   bytes over the m innermost ranks: 2(m−1)/m·S sent in
//                   2(m−1) messages; blocking (between scores and softmax);
//   a2a (U > 1): before the ring, Q, K and V go from sequence-sharded to
//                   head-sharded, after it O and LSE come back; each rank
//                   sends (U−1)/U of B·Hq/n·L/(P·U)·Dl·e (Q, and O), of
//                   B·max(Hkv/n, U)·L/(P·U)·Dl·e twice (K and V) and of
//                   4·B·Hq/n·L/(P·U) (LSE), in (U−1) messages each; blocking.
// Time: stage t costs C_t = max_r(compute + all-reduce) and, with
// ring-overlap on a cluster whose transfers progress during compute,
// max(C_t, shift_t) (the shift for stage t+1 is in flight while
// stage t computes; what sticks out is exposed); without overlap
// C_t + shift_t. Total = Σ_t + a2a + fill/finalize. Stages are taken as
// synchronous across ranks: a ring stage waits on its neighbour, so the
// slowest rank sets the pace (load imbalance shows up as compute time).
//
// The whole layer (d_model = M > 0; a2a is not allowed, U = 1): each rank
// projects its T = L/P tokens (Hkvl = Hkv/n here: no replication)
//   QKV GEMM:       2·B·T·M·(Hl + 2·Hkvl)·Dl FLOPs (X times the rank's
//                   column slices of W_q, W_k, W_v),
//   output GEMM:    2·B·T·(Hl·Dl)·M FLOPs (O times the rank's rows of W_o),
// at the target's GEMM rate (times share, like the attention); biases are
// left out (B·T·columns additions). The fp32 partial Y [B, T, M] is then
// summed over the dim slices and then over the head groups, as
// ring.output_all_reduce does: two ring all-reduces, 2(m−1)/m·Y and
// 2(n−1)/n·Y bytes sent in 2(m−1) and 2(n−1) messages, blocking (nothing
// left to overlap them with). With layer_output = reduce_scatter
// (ring.output_reduce_scatter) it is a reduce-scatter over the dim slices
// and then one over the head groups inside the dim slice's rows: (m−1)/m·Y
// and (n−1)/n·Y/m bytes in m−1 and n−1 messages, (k−1)/k·Y in all for
// k = n·m instead of the all-reduce's 2(k−1)/k. The head-group all-reduce is intra-node when
// n·m ranks fit a node. With n·m = 1 there is nothing to reduce. Megatron's
// tensor parallelism is the plan ring = 1, head groups = N (X replicated,
// W_q/W_k/W_v column-split, W_o row-split, Y all-reduced), so it is one of
// the candidates. The projection FLOPs split evenly over every grid (each
// rank has 1/N of tokens × columns), so plans differ in the all-reduce of Y,
// the ring's shifts and the attention, not in the projections. Memory adds X and Y (e bytes), the fp32 partial Y and the
// rank's weights, e·M·((Hl + 2·Hkvl)·Dl + Hl·Dl).
//
// Peak memory per rank: Q, K, V, O (e bytes) and LSE (fp32) of the rank's
// shard; with U > 1 also their head-sharded full-sequence copies; the fp32
// accumulator and partial (O and LSE shapes); min(2, P−1) receive buffers
// for K and V; the fp32 score buffers of the dim-slice path, one per block
// shape. Kernel scratch (KBs) is left out.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel.h"
#include "dialect/AttentionPlan.h"
#include "passes/BlockCases.h"
#include "dialect/Visibility.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::ring;

std::string PlanShape::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "ring=" << ring;
  if (a2a > 1)
    os << ",a2a=" << a2a;
  os << ",head_groups=" << headGroups << ",dim_slices=" << dimSlices
     << ",balance=" << stringifyBalance(layout);
  return s;
}

std::string mlir::ring::formatBytes(double bytes) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  if (u == 0)
    os << static_cast<int64_t>(bytes) << " B";
  else
    os << llvm::format(bytes >= 100 ? "%.0f" : bytes >= 10 ? "%.1f" : "%.2f",
                       bytes)
       << " " << units[u];
  return s;
}

std::string mlir::ring::checkAllToAll(const ProblemShape &pb,
                                      const PlanShape &plan) {
  if (plan.a2a == 1)
    return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  int64_t groupHeads = pb.heads / plan.headGroups;
  if (plan.a2a > groupHeads) {
    os << "a2a " << plan.a2a << " > " << groupHeads << " heads";
    return s;
  }
  if (groupHeads % plan.a2a != 0) {
    os << "a2a " << plan.a2a << " does not divide " << groupHeads << " heads";
    return s;
  }
  // Any sequence length splits: near-equal a2a shares of padded parts.
  return "";
}

Prediction mlir::ring::predictPlan(const ProblemShape &pb,
                                   const PlanShape &plan,
                                   const ClusterModel &cluster,
                                   const KernelModel &kernels, bool overlap,
                                   bool fuseMerge) {
  Prediction pr;
  const int64_t P = plan.ring, U = plan.a2a, n = plan.headGroups,
                m = plan.dimSlices, N = plan.ranks();
  const double B = pb.batch, e = pb.elementBytes;
  const double Hl = double(pb.heads) / (n * U);
  const int64_t groupKv = pb.kvHeads / n;
  pr.kvReplicated = U > groupKv;
  const double Hkvl = pr.kvReplicated ? 1.0 : double(groupKv) / U;
  // Rows per rank, padding included (the kernels compute padded rows too).
  const int64_t Ll =
      ringrt::layout::localRows(toRuntimeBalance(plan.layout), pb.seq, P);
  const double Dl = double(pb.headDim) / m;

  // Ranks beyond the node's compute units share them (see above).
  const int64_t ranksPerNode = std::min(N, cluster.devicesPerNode);
  const double share =
      std::max(1.0, double(ranksPerNode) / double(cluster.computeUnits()));
  const double attnRate = kernels.attentionFlops;
  const double sliceRate = kernels.sliceFlops;
  const double memRate = kernels.memoryBandwidth;
  double syncCompute = 0, meanCompute = 0;

  // Overlap needs the schedule (ring-overlap) and a transfer that moves
  // while the rank computes.
  overlap = overlap && cluster.commOverlapsCompute;
  const bool multiNode = N > cluster.devicesPerNode;
  pr.ringCrossesNodes = multiNode && P > 1;
  const LinkModel &ringLink =
      pr.ringCrossesNodes ? cluster.interNode : cluster.intraNode;
  // Dim slices are innermost: m ranks in a row; a2a groups span U·n·m.
  const LinkModel &sliceLink =
      m > cluster.devicesPerNode ? cluster.interNode : cluster.intraNode;
  const bool a2aIntra = U * n * m <= cluster.devicesPerNode;
  const LinkModel &a2aLink =
      !a2aIntra ? cluster.interNode
      : cluster.intraAllToAll.bandwidth > 0 ? cluster.intraAllToAll
                                            : cluster.intraNode;

  // The ring alone (the classification depends on the ring axis, the
  // layout and the masks only).
  AttentionPlan ringPlan;
  ringPlan.gridShape = {P};
  ringPlan.axisOfRole = {0, -1, -1};
  ringPlan.seq = pb.seq;
  ringPlan.balance = plan.layout;
  ringPlan.mask = pb.causal ? MaskKind::causal : MaskKind::none;
  ringPlan.windowLeft = pb.windowLeft;
  ringPlan.windowRight = pb.windowRight;
  const SmallVector<int64_t> offsets = planRingStages(ringPlan).offsets;
  const int64_t stages = static_cast<int64_t>(offsets.size());
  pr.ringStages = stages;
  auto stageCases = [&](int64_t offset) {
    return classifyStage(ringPlan, offset);
  };
  // Score elements of case `c` that rank `r` computes when the stage holds
  // the block of `src`: with a window, the exact count over the token rows
  // (per zigzag chunk: token rows must not straddle one).
  auto visiblePairs = [&](const BlockCase &c, int64_t src, int64_t r) {
    if (!pb.hasWindow())
      return double(c.qn) * c.kn * visibleFraction(c);
    const int64_t half = plan.layout == Balance::zigzag ? Ll / 2 : Ll;
    auto pieces = [&](int64_t r0, int64_t n)
        -> SmallVector<std::pair<int64_t, int64_t>, 2> {
      if (r0 < half && r0 + n > half)
        return {{r0, half - r0}, {half, r0 + n - half}};
      return {{r0, n}};
    };
    double visible = 0;
    for (auto [q0, qn] : pieces(c.q0, c.qn))
      for (auto [k0, kn] : pieces(c.k0, c.kn))
        visible += double(countVisiblePairs(
            ringPlan.tokenRows(r, q0, qn), ringPlan.tokenRows(src, k0, kn),
            pb.causal, pb.windowLeft, pb.windowRight));
    return visible;
  };

  // Per stage: compute and all-reduce of the slowest ring rank.
  std::vector<double> rankWork(P, 0.0), rankAllReduce(P, 0.0);
  const double shiftBytes = 2 * B * Hkvl * Ll * Dl * e;
  for (int64_t t = 0; t < stages; ++t) {
    SmallVector<BlockCase> cases = stageCases(offsets[t]);
    double stageCompute = 0, stageCritical = 0, stageMean = 0;
    for (int64_t r = 0; r < P; ++r) {
      int64_t src = ((r - offsets[t]) % P + P) % P;
      double kernel = 0, merge = 0, work = 0, scoreElements = 0;
      for (const BlockCase &c : cases) {
        if (!appliesTo(c, src, r))
          continue;
        double pairs = double(c.qn) * c.kn;
        scoreElements += pairs;
        if (m == 1) {
          double visible = visiblePairs(c, src, r);
          kernel += 4 * B * Hl * Dl * visible / attnRate;
          work += visible;
        } else {
          kernel += 2 * (2 * B * Hl * pairs * Dl) / sliceRate;
          work += pairs;
        }
        const double passes = m == 1 && fuseMerge ? 2 : 4;
        merge += 4 * B * Hl * c.qn * passes * (Dl + 1) / memRate;
      }
      rankWork[r] += work;
      double allReduce = 0;
      if (m > 1) {
        double scores = 4 * B * Hl * scoreElements;
        double sent = 2.0 * (m - 1) / m * scores;
        allReduce = sliceLink.time(sent, 2 * (m - 1));
        rankAllReduce[r] += sent;
      }
      stageCompute = std::max(stageCompute, kernel + merge);
      stageMean += (kernel + merge) / P;
      stageCritical = std::max(stageCritical, kernel + merge + allReduce);
    }
    double shift = t + 1 < stages ? ringLink.time(shiftBytes, 2) : 0;
    if (t + 1 < stages)
      pr.commBytes += shiftBytes;
    double stage = overlap ? std::max(stageCritical, shift)
                           : stageCritical + shift;
    syncCompute += stageCompute;
    meanCompute += stageMean;
    pr.commTime += shift + (stageCritical - stageCompute);
    pr.exposedComm += stage - stageCompute;
  }
  pr.computeTime = std::max(syncCompute, share * meanCompute);
  pr.allReduceBytes =
      *std::max_element(rankAllReduce.begin(), rankAllReduce.end());
  pr.commBytes += pr.allReduceBytes;

  // Fill and finalize of the fp32 accumulator.
  double fillFinal = share * 4 * B * Hl * Ll * (2 * Dl + 2) / memRate;
  pr.computeTime += fillFinal;
  pr.totalTime = pr.computeTime + pr.exposedComm;

  // a2a before and after the ring.
  if (U > 1) {
    // Rows per rank, input: the largest share of the local block (all of
    // them when U divides it).
    const double chunk = double(ringrt::layout::a2aRows(Ll, U));
    const double frac = double(U - 1) / U;
    const double qBytes = B * (double(pb.heads) / n) * chunk * Dl * e;
    const double kvBytes =
        B * double(std::max<int64_t>(groupKv, U)) * chunk * Dl * e;
    const double lseBytes = 4 * B * (double(pb.heads) / n) * chunk;
    pr.allToAllBytes = frac * (2 * qBytes + 2 * kvBytes + lseBytes);
    double a2aTime = 5 * a2aLink.latency * (U - 1) +
                     pr.allToAllBytes / a2aLink.bandwidth;
    pr.commBytes += pr.allToAllBytes;
    pr.commTime += a2aTime;
    pr.exposedComm += a2aTime;
    pr.totalTime += a2aTime;
  }

  // The layer's projections and the all-reduce of Y (see above).
  if (pb.dModel > 0) {
    const double M = double(pb.dModel), T = double(pb.seq) / P;
    const double qkvCols = (Hl + 2 * Hkvl) * Dl, oCols = Hl * Dl;
    const double flops = 2 * B * T * M * (qkvCols + oCols);
    pr.projectionTime = share * flops / kernels.gemmFlops;
    const double yBytes = 4 * B * T * M;
    const LinkModel &groupLink =
        n * m > cluster.devicesPerNode ? cluster.interNode : cluster.intraNode;
    // All-reduce: 2(k−1)/k of Y per axis; reduce-scatter: (k−1)/k, the
    // head-group step on the dim slice's 1/m of the rows.
    const double passes = pb.scatterOutput ? 1 : 2;
    double sliceSent = passes * (m - 1) / m * yBytes;
    double groupSent = passes * (n - 1) / n * yBytes /
                       (pb.scatterOutput ? double(m) : 1.0);
    pr.outputReduceBytes = sliceSent + groupSent;
    pr.outputScattered = pb.scatterOutput;
    pr.outputReduceTime =
        (m > 1 ? sliceLink.time(sliceSent, passes * (m - 1)) : 0) +
        (n > 1 ? groupLink.time(groupSent, passes * (n - 1)) : 0);
    pr.computeTime += pr.projectionTime;
    pr.commBytes += pr.outputReduceBytes;
    pr.commTime += pr.outputReduceTime;
    pr.exposedComm += pr.outputReduceTime;
    pr.totalTime += pr.projectionTime + pr.outputReduceTime;
  }

  // Load imbalance over the ring ranks.
  double maxWork = *std::max_element(rankWork.begin(), rankWork.end());
  double meanWork = 0;
  for (double w : rankWork)
    meanWork += w / P;
  pr.imbalance = meanWork > 0 ? maxWork / meanWork : 1.0;

  // Peak memory.
  const double chunkIn = double(pb.seq) / (P * U);
  double mem = B * (double(pb.heads) / n) * chunkIn * Dl * e * 2 // Q, O
               + B * (double(groupKv)) * chunkIn * Dl * e * 2    // K, V
               + 4 * B * (double(pb.heads) / n) * chunkIn;       // LSE
  if (U > 1)
    mem += B * Hl * Ll * Dl * e * 2 + B * Hkvl * Ll * Dl * e * 2 +
           4 * B * Hl * Ll;
  mem += 2 * (4 * B * Hl * Ll * Dl + 4 * B * Hl * Ll); // acc + partial
  mem += std::min<int64_t>(2, stages - 1) * 2 * B * Hkvl * Ll * Dl * e;
  if (m > 1) {
    std::set<std::pair<int64_t, int64_t>> shapes;
    for (int64_t offset : offsets)
      for (const BlockCase &c : stageCases(offset))
        shapes.insert({c.qn, c.kn});
    for (auto [qn, kn] : shapes)
      mem += 4 * B * Hl * double(qn) * kn;
  }
  if (pb.dModel > 0) {
    const double M = double(pb.dModel), T = double(pb.seq) / P;
    const double yRows = pb.scatterOutput ? std::ceil(T / (n * m)) : T;
    mem += B * T * M * e + B * yRows * M * e + 4 * B * T * M; // X, Y; fp32 Y
    mem += M * ((Hl + 2 * Hkvl) * Dl + Hl * Dl) * e;    // the rank's weights
  }
  pr.peakMemory = mem;
  return pr;
}

std::string mlir::ring::checkLayer(const ProblemShape &pb,
                                   const PlanShape &plan) {
  if (pb.dModel > 0 && plan.a2a > 1)
    return "the whole layer runs on ring x head_groups x dim_slices grids "
           "only (a2a " +
           std::to_string(plan.a2a) + ")";
  return "";
}

std::string mlir::ring::lossReason(const PlanShape &plan,
                                   const Prediction &loser,
                                   const Prediction &best) {
  std::string s;
  llvm::raw_string_ostream os(s);
  double slower = loser.totalTime / best.totalTime;
  if (slower < 1.01) {
    os << "within 1% of the chosen plan (tie; enumeration order)";
    return s;
  }
  // The terms of the difference; the largest names the reason.
  double dExposed = loser.exposedComm - best.exposedComm;
  double dCompute = loser.computeTime - best.computeTime;
  if (dExposed >= dCompute && dExposed > 0) {
    if (loser.outputReduceTime - best.outputReduceTime > dExposed / 2)
      os << (loser.outputScattered ? "output reduce-scatter "
                                   : "output all-reduce ")
         << formatBytes(loser.outputReduceBytes);
    else if (loser.allReduceBytes > 0 &&
        loser.allReduceBytes >= loser.allToAllBytes)
      os << "score all-reduce " << formatBytes(loser.allReduceBytes);
    else if (loser.allToAllBytes > 0)
      os << "all-to-all " << formatBytes(loser.allToAllBytes)
         << " not overlapped";
    else
      os << "exposed K/V shift "
         << llvm::format("%.3g", loser.exposedComm * 1e3) << " ms"
         << (loser.ringCrossesNodes ? " (ring across nodes)" : "");
  } else if (loser.imbalance > 1.05 && loser.imbalance > best.imbalance) {
    os << "load imbalance " << llvm::format("%.2f", loser.imbalance) << "x";
  } else if (plan.dimSlices > 1) {
    os << "dim-slice kernels slower than the fused kernel";
  } else {
    os << "compute " << llvm::format("%.3g", loser.computeTime * 1e3)
       << " ms";
  }
  os << "; " << llvm::format("%.2f", slower) << "x slower";
  return s;
}
