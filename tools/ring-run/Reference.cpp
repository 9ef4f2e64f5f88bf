//===- Reference.cpp - float64 reference attention --------------*- C++ -*-===//
//
// This file implements the float64 reference attention (two-pass softmax
// with the row maximum subtracted) and the relative-error comparison.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include <cmath>
#include <limits>

using namespace ringrun;

void ringrun::referenceAttention(const AttentionSpec &s,
                                 const std::vector<float> &q,
                                 const std::vector<float> &k,
                                 const std::vector<float> &v,
                                 std::vector<double> &o,
                                 std::vector<double> &lse) {
  const int64_t B = s.batch, Hq = s.heads, Hkv = s.kvHeads, L = s.seq,
                D = s.headDim, group = Hq / Hkv;
  o.assign(static_cast<size_t>(B * Hq * L * D), 0.0);
  lse.assign(static_cast<size_t>(B * Hq * L), 0.0);
  std::vector<double> scores(static_cast<size_t>(L));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t hk = h / group;
      const float *kb = &k[static_cast<size_t>(((b * Hkv + hk) * L) * D)];
      const float *vb = &v[static_cast<size_t>(((b * Hkv + hk) * L) * D)];
      for (int64_t i = 0; i < L; ++i) {
        const float *qi = &q[static_cast<size_t>(((b * Hq + h) * L + i) * D)];
        double *oi = &o[static_cast<size_t>(((b * Hq + h) * L + i) * D)];
        int64_t visible = s.causal ? i + 1 : L;
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += static_cast<double>(qi[d]) * kb[j * D + d];
          scores[j] = dot * s.scale;
          m = std::max(m, scores[j]);
        }
        double &l = lse[static_cast<size_t>((b * Hq + h) * L + i)];
        if (visible == 0) {
          l = -std::numeric_limits<double>::infinity();
          continue;
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j) {
          double p = std::exp(scores[j] - m);
          sum += p;
          for (int64_t d = 0; d < D; ++d)
            oi[d] += p * vb[j * D + d];
        }
        for (int64_t d = 0; d < D; ++d)
          oi[d] /= sum;
        l = m + std::log(sum);
      }
    }
}

namespace {
std::string indexString(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    idx[a] = flat % shape[a];
    flat /= shape[a];
  }
  std::string s = "[";
  for (size_t a = 0; a < idx.size(); ++a)
    s += (a ? "," : "") + std::to_string(idx[a]);
  return s + "]";
}
} // namespace

Comparison ringrun::compareOutput(const std::string &name, const float *out,
                                  const double *ref,
                                  const std::vector<int64_t> &shape) {
  Comparison c;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  double diff2 = 0, ref2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    double got = out[i], want = ref[i];
    bool gotNegInf = std::isinf(got) && got < 0;
    bool wantNegInf = std::isinf(want) && want < 0;
    if (std::isnan(got) || (std::isinf(got) && got > 0) ||
        gotNegInf != wantNegInf) {
      c.ok = false;
      c.why = name + indexString(i, shape) + " is " + std::to_string(got) +
              ", expected " + std::to_string(want);
      return c;
    }
    if (gotNegInf)
      continue;
    diff2 += (got - want) * (got - want);
    ref2 += want * want;
  }
  c.relErr = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  return c;
}
