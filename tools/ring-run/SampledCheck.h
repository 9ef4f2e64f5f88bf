//===- SampledCheck.h - --check-rows: a sample of rows per rank -*- C++ -*-===//
//
// This file declares the sampled check of ring-run --check-rows K: every
// rank compares its own outputs for K query tokens per (batch, head),
// spread evenly over the sequence, with float64 reference rows computed
// from inputs generated on the fly (HostData.h). It costs O(K * L * D) per
// head and needs no global tensor, so it scales to sequences whose full
// reference would not fit in memory.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_SAMPLEDCHECK_H
#define RINGRUN_SAMPLEDCHECK_H

#include "HostData.h"
#include "Manifest.h"
#include "Reference.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ringrun {

/// The sampled tokens: min(K, L) tokens, round(i * (L-1) / (K-1)) for
/// i in [0, K) (first and last included), sorted and distinct.
std::vector<int64_t> sampledTokens(int64_t seq, int64_t k);

/// One rank's share of a sampled check.
struct SampledErrors {
  double oDiff2 = 0, oRef2 = 0, lseDiff2 = 0, lseRef2 = 0;
  int64_t rows = 0;    ///< sampled rows this rank compared
  Conditioning cond;   ///< of the sampled rows (Reference.h)
  std::string failure; ///< the first NaN/inf mismatch, naming the element
};

/// Compares the rank's local O (of the spec's dtype) and LSE (f32) for the
/// sampled tokens with reference rows. LSE is compared on dim slice 0 only.
/// Inputs are those of seed and inputScale (applied to q and k).
SampledErrors checkSampledRows(const AttentionSpec &s, const RankCoords &c,
                               uint64_t seed, double inputScale,
                               const std::vector<int64_t> &tokens,
                               const void *localO, const float *localLse);

} // namespace ringrun

#endif // RINGRUN_SAMPLEDCHECK_H
