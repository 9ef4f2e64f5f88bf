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

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace ringrun {

/// How much fp32 logits can move a result by themselves: an fp32 logit is
/// a sum of head_dim products (plus the rounding of scale * q), so it can
/// be off by gamma * a_j, with gamma = (head_dim + 1) * 2^-24 and a_j =
/// scale * sum_d |q_d k_jd| (the standard dot-product bound). To first
/// order that moves O by sum_j p_j delta_j (v_j - O) and the LSE by
/// sum_j p_j delta_j, so each row's O can be off by
/// gamma * sum_j p_j a_j |v_j - O| and its LSE by gamma * sum_j p_j a_j.
/// The sums of their squares over rows, divided by the squared norms of
/// the reference, give the relative error the best fp32 kernel may have:
/// the reference's own conditioning. It vanishes for one-hot rows (huge
/// logits with a clear winner) and stays tiny for small logits.
struct Conditioning {
  double oErr2 = 0, lseErr2 = 0;
  void add(const Conditioning &o) {
    oErr2 += o.oErr2;
    lseErr2 += o.lseErr2;
  }
};

/// Scratch of attentionRow, reused across rows.
struct RowScratch {
  std::vector<double> scores, magnitudes;
};

/// One row of float64 attention: scores_j = scale * sum_d q(d) * k(j, d)
/// over the `visible` keys j in [0, visible), o(d) = softmax-weighted sum
/// of v(j, d); returns the LSE (natural log), -inf when visible == 0
/// (O = 0). Adds the row's conditioning (see Conditioning) to `cond`. The
/// accessors let the full reference read arrays and --check-rows generate
/// inputs on the fly.
template <typename QF, typename KF, typename VF>
double attentionRow(int64_t D, int64_t visible, double scale, QF q, KF k,
                    VF v, double *o, RowScratch &scratch, Conditioning &cond) {
  for (int64_t d = 0; d < D; ++d)
    o[d] = 0;
  if (visible == 0)
    return -std::numeric_limits<double>::infinity();
  scratch.scores.resize(static_cast<size_t>(visible));
  scratch.magnitudes.resize(static_cast<size_t>(visible));
  double *scores = scratch.scores.data(), *a = scratch.magnitudes.data();
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < visible; ++j) {
    double dot = 0, absDot = 0;
    for (int64_t d = 0; d < D; ++d) {
      double t = static_cast<double>(q(d)) * static_cast<double>(k(j, d));
      dot += t;
      absDot += std::fabs(t);
    }
    scores[j] = dot * scale;
    a[j] = absDot * scale;
    m = std::max(m, scores[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < visible; ++j) {
    double p = std::exp(scores[j] - m);
    scores[j] = p; // from here on: unnormalized probabilities
    sum += p;
    for (int64_t d = 0; d < D; ++d)
      o[d] += p * static_cast<double>(v(j, d));
  }
  for (int64_t d = 0; d < D; ++d)
    o[d] /= sum;
  const double gamma = static_cast<double>(D + 1) * std::ldexp(1.0, -24);
  double oErr = 0, lseErr = 0;
  for (int64_t j = 0; j < visible; ++j) {
    double pa = scores[j] / sum * a[j];
    if (pa == 0)
      continue;
    double dist2 = 0;
    for (int64_t d = 0; d < D; ++d) {
      double diff = static_cast<double>(v(j, d)) - o[d];
      dist2 += diff * diff;
    }
    oErr += pa * std::sqrt(dist2);
    lseErr += pa;
  }
  cond.oErr2 += gamma * gamma * oErr * oErr;
  cond.lseErr2 += gamma * gamma * lseErr * lseErr;
  return m + std::log(sum);
}

/// Accumulates ||out - ref||^2 and ||ref||^2 element by element. -inf equal
/// to -inf counts as zero error; NaN, +inf, or -inf on one side only is a
/// failure (add returns false). A reference beyond float's range (an LSE
/// above FLT_MAX) rounds to +inf in the float output, so there +inf is the
/// right answer and anything else is wrong.
struct ErrorSum {
  double diff2 = 0, ref2 = 0;
  bool add(double got, double want) {
    if (want > static_cast<double>(std::numeric_limits<float>::max()))
      return std::isinf(got) && got > 0;
    bool gotNegInf = std::isinf(got) && got < 0;
    bool wantNegInf = std::isinf(want) && want < 0;
    if (std::isnan(got) || (std::isinf(got) && got > 0) ||
        gotNegInf != wantNegInf)
      return false;
    if (!gotNegInf) {
      diff2 += (got - want) * (got - want);
      ref2 += want * want;
    }
    return true;
  }
  /// ||out - ref|| / ||ref|| (absolute when ref = 0).
  double relErr() const {
    return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  }
};

/// Full attention in float64 on global tensors: q [B,Hq,L,D], k/v
/// [B,Hkv,L,D] (GQA: q head h uses kv head h / (Hq/Hkv)); causal: key j is
/// visible to query i iff j <= i. Writes o [B,Hq,L,D] and lse [B,Hq,L]
/// (natural log); rows whose scores are all masked give O = 0, LSE = -inf.
/// Returns the conditioning summed over all rows.
Conditioning referenceAttention(const AttentionSpec &s,
                                const std::vector<float> &q,
                                const std::vector<float> &k,
                                const std::vector<float> &v,
                                std::vector<double> &o,
                                std::vector<double> &lse);

/// The bound on --check's relative error: the dtype's (f32 1e-4, bf16 and
/// f16 1e-2; DESIGN.md section 4) plus the relative error the fp32 logits
/// allow by themselves (Conditioning): max(sqrt(oErr2) / ||O_ref||,
/// sqrt(lseErr2) / ||LSE_ref||). oRef2 and lseRef2 are the squared norms.
double checkBound(const AttentionSpec &s, const Conditioning &cond,
                  double oRef2, double lseRef2);

/// Result of comparing one output with its reference.
struct Comparison {
  bool ok = true;      ///< false on NaN, +inf or a -inf mismatch
  double relErr = 0;   ///< ||out - ref||_2 / ||ref||_2 (absolute if ref = 0)
  double ref2 = 0;     ///< ||ref||_2^2 over the finite elements
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
