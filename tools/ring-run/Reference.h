//===- Reference.h - float64 reference attention and comparison -*- C++ -*-===//
//
// This file declares the float64 single-device attention that ring-run
// checks artifacts against, and the relative-error comparison of DESIGN.md
// section 4.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_REFERENCE_H
#define RINGRUN_REFERENCE_H

#include "Manifest.h"

#include <string>
#include <vector>

namespace ringrun {

/// Full attention in float64 on global tensors: q [B,Hq,L,D], k/v
/// [B,Hkv,L,D] (GQA: q head h uses kv head h / (Hq/Hkv)); causal: key j is
/// visible to query i iff j <= i. Writes o [B,Hq,L,D] and lse [B,Hq,L]
/// (natural log); rows whose scores are all masked give O = 0, LSE = -inf.
void referenceAttention(const AttentionSpec &s, const std::vector<float> &q,
                        const std::vector<float> &k,
                        const std::vector<float> &v, std::vector<double> &o,
                        std::vector<double> &lse);

/// Result of comparing one output with its reference.
struct Comparison {
  bool ok = true;      ///< false on NaN, +inf or a -inf mismatch
  double relErr = 0;   ///< ||out - ref||_2 / ||ref||_2 (absolute if ref = 0)
  std::string why;     ///< names the first bad element when !ok
};

/// Compares `out` with `ref` (both of `shape`, named `name` in messages).
/// -inf equal to -inf counts as zero error; any NaN, any +inf, or -inf on
/// one side only fails, naming the first bad index.
Comparison compareOutput(const std::string &name, const float *out,
                         const double *ref,
                         const std::vector<int64_t> &shape);

} // namespace ringrun

#endif // RINGRUN_REFERENCE_H
