//===- LayerCheck.h - ring-run for whole-layer artifacts --------*- C++ -*-===//
//
// This file declares what ring-run does with a layer artifact (spec key
// d_model; entry NAME_layer): --check gives every rank its share of seeded
// X, W_q, W_k, W_v, W_o (and biases), runs the layer, gathers Y and LSE,
// and compares them with a float64 reference of the whole layer under the
// same masks (causal, sliding window, and for a varlen artifact the run's
// documents, which the entry takes as cu_seqlens); --bench times the entry.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_LAYERCHECK_H
#define RINGRUN_LAYERCHECK_H

#include "HostData.h"
#include "Manifest.h"
#include "ringrt/ringrt.h"

#include <functional>
#include <string>

namespace ringrun {

/// Input numbers of the layer's tensors in inputElement (after q, k, v and
/// dO): x 4, wq 5, wk 6, wv 7, wo 8, bq 9, bk 10, bv 11, bo 12.
enum LayerInput : int {
  kLayerX = 4,
  kLayerWq,
  kLayerWk,
  kLayerWv,
  kLayerWo,
  kLayerBq,
  kLayerBk,
  kLayerBv,
  kLayerBo
};

/// What the layer runs need from ring-run's driver.
struct LayerRun {
  const Manifest &manifest;
  ringrt_context *ctx;
  RankCoords coords;
  /// The entry NAME_layer (its signature depends on spec.bias and
  /// spec.max_docs).
  void *entry;
  uint64_t seed = 0;
  std::string dumpDir;
  int64_t iters = 20;
  /// --input-scale: W_q and W_k are multiplied by it.
  double inputScale = 1.0;
  /// Collective: true if every rank is ok (World::agree of ring-run.cpp).
  std::function<bool(bool, const std::string &)> agree;
  /// --bench: if set, receives ms per iteration (the slowest rank's) on
  /// every rank (ring-run --calibrate times the projections with it).
  double *benchMs = nullptr;
};

/// --check. Rank 0's last line: `ring-run: PASS max_rel_err=<x>
/// y_rel_err=<a> lse_rel_err=<b> ranks=<N>` or `ring-run: FAIL <why>`.
/// Returns the exit code. Collective.
int runLayerCheck(const LayerRun &run);

/// --bench: `ring-run: BENCH ms_per_iter=<x> tokens_per_s=<y> gflops=<z>`
/// (FLOPs of the projections and the attention). Collective.
int runLayerBench(const LayerRun &run);

} // namespace ringrun

#endif // RINGRUN_LAYERCHECK_H
