//===- GradReference.cpp - float64 reference of the backward pass -*- C++ -*-===//
//
// This file implements the analytic float64 attention gradients (see
// GradReference.h), one query row at a time.
//
//===----------------------------------------------------------------------===//

#include "GradReference.h"

#include <cmath>
#include <limits>

using namespace ringrun;

void ringrun::referenceAttentionBackward(
    const AttentionSpec &s, const std::vector<float> &q,
    const std::vector<float> &k, const std::vector<float> &v,
    const std::vector<float> &dout, std::vector<double> &dq,
    std::vector<double> &dk, std::vector<double> &dv) {
  const int64_t B = s.batch, Hq = s.heads, Hkv = s.kvHeads, L = s.seq,
                D = s.headDim, group = Hq / Hkv;
  dq.assign(static_cast<size_t>(B * Hq * L * D), 0.0);
  dk.assign(static_cast<size_t>(B * Hkv * L * D), 0.0);
  dv.assign(static_cast<size_t>(B * Hkv * L * D), 0.0);
  std::vector<double> p(static_cast<size_t>(L)), o(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      size_t kvBase = static_cast<size_t>(((b * Hkv + h / group) * L) * D);
      const float *kb = &k[kvBase], *vb = &v[kvBase];
      double *dkb = &dk[kvBase], *dvb = &dv[kvBase];
      for (int64_t i = 0; i < L; ++i) {
        size_t row = static_cast<size_t>(((b * Hq + h) * L + i) * D);
        const float *qi = &q[row], *doi = &dout[row];
        double *dqi = &dq[row];
        // The keys the row sees, [j0, j0 + visible) (causal, window).
        auto [j0, j1] = s.visibleKeys(i);
        int64_t visible = j1 - j0;
        const float *kr = kb + j0 * D, *vr = vb + j0 * D;
        double *dkr = dkb + j0 * D, *dvr = dvb + j0 * D;
        if (visible == 0)
          continue; // every score masked: no gradient
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += static_cast<double>(qi[d]) * kr[j * D + d];
          p[j] = dot * s.scale;
          m = std::max(m, p[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          sum += (p[j] = std::exp(p[j] - m));
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t j = 0; j < visible; ++j) {
          p[j] /= sum;
          for (int64_t d = 0; d < D; ++d)
            o[d] += p[j] * vr[j * D + d];
        }
        double delta = 0;
        for (int64_t d = 0; d < D; ++d)
          delta += static_cast<double>(doi[d]) * o[d];
        for (int64_t j = 0; j < visible; ++j) {
          double dp = 0;
          for (int64_t d = 0; d < D; ++d)
            dp += static_cast<double>(doi[d]) * vr[j * D + d];
          double ds = p[j] * (dp - delta) * s.scale;
          for (int64_t d = 0; d < D; ++d) {
            dqi[d] += ds * kr[j * D + d];
            dkr[j * D + d] += ds * qi[d];
            dvr[j * D + d] += p[j] * doi[d];
          }
        }
      }
    }
}
