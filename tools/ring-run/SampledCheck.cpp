//===- SampledCheck.cpp - --check-rows: a sample of rows per rank -*- C++ -*-===//
//
// This file implements the sampled check (SampledCheck.h).
//
//===----------------------------------------------------------------------===//

#include "SampledCheck.h"
#include "Reference.h"

#include <algorithm>
#include <cmath>

using namespace ringrun;
using namespace ringrt::layout;

std::vector<int64_t> ringrun::sampledTokens(int64_t seq, int64_t k) {
  std::vector<int64_t> out;
  if (k >= seq) {
    for (int64_t t = 0; t < seq; ++t)
      out.push_back(t);
    return out;
  }
  for (int64_t i = 0; i < k; ++i) {
    // Rounded in long double: (seq-1) * i overflows nothing for the sizes a
    // manifest allows (seq * head_dim < 2^56).
    long double x = k == 1 ? 0.0L
                           : static_cast<long double>(seq - 1) * i / (k - 1);
    out.push_back(static_cast<int64_t>(std::llround(x)));
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

SampledErrors ringrun::checkSampledRows(const AttentionSpec &s,
                                        const RankCoords &c, uint64_t seed,
                                        double inputScale,
                                        const std::vector<int64_t> &tokens,
                                        const void *localO,
                                        const float *localLse) {
  SampledErrors out;
  const int64_t L = s.seq, D = s.headDim, Hq = s.heads, Hkv = s.kvHeads;
  const int64_t group = Hq / Hkv, Ll = s.rankSeq();
  Range hr = evenBlock(Hq, s.headGroups, c.headGroup);
  Range dr = evenBlock(D, s.dimSlices, c.dimSlice);
  const int64_t HqLocal = hr.end - hr.begin, Dl = dr.end - dr.begin;
  RowScratch scratch;
  std::vector<double> ref(static_cast<size_t>(D));
  std::vector<float> q(static_cast<size_t>(D));
  ErrorSum oSum, lSum;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = hr.begin; h < hr.end; ++h)
      for (int64_t i = 0; i < Ll; ++i) {
        int64_t t = rankToken(s, c, i);
        if (!std::binary_search(tokens.begin(), tokens.end(), t))
          continue;
        int64_t hk = h / group;
        int64_t qBase = ((b * Hq + h) * L + t) * D;
        int64_t kvBase = (b * Hkv + hk) * L * D;
        for (int64_t d = 0; d < D; ++d)
          q[d] = inputElement(seed, 0, qBase + d, s.dtype, inputScale);
        double lse = attentionRow(
            D, s.causal ? t + 1 : L, s.scale, [&](int64_t d) { return q[d]; },
            [&](int64_t j, int64_t d) {
              return inputElement(seed, 1, kvBase + j * D + d, s.dtype,
                                  inputScale);
            },
            [&](int64_t j, int64_t d) {
              return inputElement(seed, 2, kvBase + j * D + d, s.dtype);
            },
            ref.data(), scratch, out.cond);
        int64_t row = (b * HqLocal + (h - hr.begin)) * Ll + i;
        for (int64_t d = 0; d < Dl; ++d) {
          float got = loadElement(localO, s.dtype, row * Dl + d);
          if (!oSum.add(got, ref[dr.begin + d]) && out.failure.empty())
            out.failure = "o[" + std::to_string(b) + "," + std::to_string(h) +
                          "," + std::to_string(t) + "," +
                          std::to_string(dr.begin + d) + "] is " +
                          std::to_string(got) + ", expected " +
                          std::to_string(ref[dr.begin + d]);
        }
        if (c.dimSlice == 0 && !lSum.add(localLse[row], lse) &&
            out.failure.empty())
          out.failure = "lse[" + std::to_string(b) + "," + std::to_string(h) +
                        "," + std::to_string(t) + "] is " +
                        std::to_string(localLse[row]) + ", expected " +
                        std::to_string(lse);
        ++out.rows;
      }
  out.oDiff2 = oSum.diff2;
  out.oRef2 = oSum.ref2;
  out.lseDiff2 = lSum.diff2;
  out.lseRef2 = lSum.ref2;
  return out;
}
