//===- GradCheck.h - ring-run for the backward entry ------------*- C++ -*-===//
//
// This file declares what ring-run does with a grad artifact (one that also
// exports NAME_attention_backward): --check runs the forward, then the
// backward with a random dO, and compares o, lse, dq, dk and dv with float64
// references; --bench times the backward on its own.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_GRADCHECK_H
#define RINGRUN_GRADCHECK_H

#include "HostData.h"
#include "Manifest.h"
#include "ringrt/ringrt.h"

#include <functional>
#include <string>

namespace ringrun {

/// The C signature of NAME_attention_backward (the artifact header's).
typedef int32_t (*BackwardEntry)(ringrt_context *ctx, const ringrt_tensor *q,
                                 const ringrt_tensor *k, const ringrt_tensor *v,
                                 const ringrt_tensor *o,
                                 const ringrt_tensor *lse,
                                 const ringrt_tensor *dout, ringrt_tensor *dq,
                                 ringrt_tensor *dk, ringrt_tensor *dv,
                                 void *workspace, void *stream);

/// The backward entry of a varlen artifact (max_docs): cu_seqlens before
/// the workspace.
typedef int32_t (*VarlenBackwardEntry)(
    ringrt_context *ctx, const ringrt_tensor *q, const ringrt_tensor *k,
    const ringrt_tensor *v, const ringrt_tensor *o, const ringrt_tensor *lse,
    const ringrt_tensor *dout, ringrt_tensor *dq, ringrt_tensor *dk,
    ringrt_tensor *dv, const int32_t *cu_seqlens, void *workspace,
    void *stream);

/// The backward entry's name for a forward entry `NAME_attention`.
inline std::string backwardEntryName(const std::string &forwardEntry) {
  return forwardEntry + "_backward";
}

/// The backward entry of the artifact in `dir` whose library
/// loadArtifactEntry has loaded, or null when it has none (not a grad
/// artifact).
BackwardEntry findBackwardEntry(const std::string &dir, const Manifest &m);

/// What the grad runs need from ring-run's driver.
struct GradRun {
  const Manifest &manifest;
  ringrt_context *ctx;
  RankCoords coords;
  ringrt_attention_entry forward;
  BackwardEntry backward;
  uint64_t seed = 0;
  std::string dumpDir;
  int64_t iters = 20;
  /// --input-scale: q and k are multiplied by it (as in the forward check).
  double inputScale = 1.0;
  /// Collective: true if every rank is ok; otherwise rank 0 has printed
  /// `ring-run: FAIL ...` (World::agree of ring-run.cpp).
  std::function<bool(bool, const std::string &)> agree;
  /// --profile: prints the device counters (collective), after the forward
  /// and after the backward of --check; null without --profile.
  std::function<void(const char *after)> profile;
};

/// --check: forward, backward with a random dO, gather to rank 0, compare.
/// Rank 0's last line: `ring-run: PASS max_rel_err=<x> o_rel_err=<a>
/// lse_rel_err=<b> dq_rel_err=<c> dk_rel_err=<d> dv_rel_err=<e> ranks=<N>`
/// or `ring-run: FAIL <why>`. Returns the exit code. Collective.
int runGradCheck(const GradRun &run);

/// --bench: times the backward entry (after one forward); rank 0 prints
/// `ring-run: BENCH backward ms_per_iter=<x> tokens_per_s=<y> gflops=<z>`
/// with FLOPs 2.5x the forward's (FlashAttention's convention). Returns the
/// exit code. Collective.
int runGradBench(const GradRun &run);

} // namespace ringrun

#endif // RINGRUN_GRADCHECK_H
