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

double ringrun::checkBound(const AttentionSpec &s, const Conditioning &cond,
                          double oRef2, double lseRef2) {
  double base = s.dtype == RINGRT_F32 ? 1e-4 : 1e-2;
  double o = oRef2 > 0 ? std::sqrt(cond.oErr2 / oRef2) : 0;
  double l = lseRef2 > 0 ? std::sqrt(cond.lseErr2 / lseRef2) : 0;
  return base + std::max(o, l);
}

Conditioning ringrun::referenceAttention(const AttentionSpec &s,
                                 const std::vector<float> &q,
                                 const std::vector<float> &k,
                                 const std::vector<float> &v,
                                 std::vector<double> &o,
                                 std::vector<double> &lse) {
  const int64_t B = s.batch, Hq = s.heads, Hkv = s.kvHeads, L = s.seq,
                D = s.headDim, group = Hq / Hkv;
  o.assign(static_cast<size_t>(B * Hq * L * D), 0.0);
  lse.assign(static_cast<size_t>(B * Hq * L), 0.0);
  RowScratch scratch;
  Conditioning cond;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t hk = h / group;
      const float *kb = &k[static_cast<size_t>(((b * Hkv + hk) * L) * D)];
      const float *vb = &v[static_cast<size_t>(((b * Hkv + hk) * L) * D)];
      for (int64_t i = 0; i < L; ++i) {
        const float *qi = &q[static_cast<size_t>(((b * Hq + h) * L + i) * D)];
        double *oi = &o[static_cast<size_t>(((b * Hq + h) * L + i) * D)];
        auto [j0, j1] = s.visibleKeys(i);
        lse[static_cast<size_t>((b * Hq + h) * L + i)] = attentionRow(
            D, j1 - j0, s.scale, [&](int64_t d) { return qi[d]; },
            [&](int64_t j, int64_t d) { return kb[(j0 + j) * D + d]; },
            [&](int64_t j, int64_t d) { return vb[(j0 + j) * D + d]; }, oi,
            scratch, cond);
      }
    }
  return cond;
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
  ErrorSum sum;
  for (int64_t i = 0; i < n; ++i) {
    if (!sum.add(out[i], ref[i])) {
      c.ok = false;
      c.why = name + indexString(i, shape) + " is " + std::to_string(out[i]) +
              ", expected " + std::to_string(ref[i]);
      return c;
    }
  }
  c.relErr = sum.relErr();
  c.ref2 = sum.ref2;
  return c;
}
