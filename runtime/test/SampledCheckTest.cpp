//===- SampledCheckTest.cpp - ring-run --check-rows -------------*- C++ -*-===//
//
// This file tests the sampled check: the sample of tokens, that correct
// outputs pass with reference rows generated on the fly, and that a wrong
// or NaN element in a sampled row is seen (and one outside the sample is
// not, which is what sampling means).
//
//===----------------------------------------------------------------------===//

#include "HostData.h"
#include "Reference.h"
#include "SampledCheck.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace ringrun;

namespace {

TEST(SampledCheck, Tokens) {
  EXPECT_EQ(sampledTokens(10, 3), (std::vector<int64_t>{0, 5, 9}));
  EXPECT_EQ(sampledTokens(4, 10), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(sampledTokens(100, 1), (std::vector<int64_t>{0}));
  EXPECT_EQ(sampledTokens(int64_t(1) << 40, 2),
            (std::vector<int64_t>{0, (int64_t(1) << 40) - 1}));
}

TEST(SampledCheck, SeesSampledRowsOnly) {
  AttentionSpec s;
  std::string err;
  ASSERT_TRUE(parseSpecKeyValues(
      "batch=2,heads=2,kv_heads=1,seq=24,head_dim=8,causal=1,dtype=f32", s,
      err))
      << err;
  std::vector<int64_t> qShape = {2, 2, 24, 8}, kvShape = {2, 1, 24, 8};
  auto q = generateInput(5, 0, qShape, s.dtype, 3.0);
  auto k = generateInput(5, 1, kvShape, s.dtype, 3.0);
  auto v = generateInput(5, 2, kvShape, s.dtype);
  std::vector<double> refO, refL;
  referenceAttention(s, q, k, v, refO, refL);
  std::vector<float> o(refO.begin(), refO.end()), lse(refL.begin(), refL.end());

  std::vector<int64_t> tokens = sampledTokens(24, 4); // 0, 8, 15, 23
  RankCoords c;
  SampledErrors e = checkSampledRows(s, c, 5, 3.0, tokens, o.data(), lse.data());
  EXPECT_EQ(e.failure, "");
  EXPECT_EQ(e.rows, 2 * 2 * 4);
  EXPECT_GT(e.oRef2, 0);
  EXPECT_LT(std::sqrt(e.oDiff2 / e.oRef2), 1e-6);
  EXPECT_GT(e.cond.oErr2, 0);

  // Token 8 of batch 1, head 0, column 3 is sampled; token 9 is not.
  size_t sampled = ((1 * 2 + 0) * 24 + 8) * 8 + 3;
  size_t unsampled = ((1 * 2 + 0) * 24 + 9) * 8 + 3;
  o[unsampled] += 1.0f;
  e = checkSampledRows(s, c, 5, 3.0, tokens, o.data(), lse.data());
  EXPECT_LT(std::sqrt(e.oDiff2 / e.oRef2), 1e-6);
  o[sampled] += 0.5f;
  e = checkSampledRows(s, c, 5, 3.0, tokens, o.data(), lse.data());
  EXPECT_GT(std::sqrt(e.oDiff2 / e.oRef2), 1e-2);
  o[sampled] = NAN;
  e = checkSampledRows(s, c, 5, 3.0, tokens, o.data(), lse.data());
  EXPECT_EQ(e.failure.rfind("o[1,0,8,3] is nan", 0), 0u) << e.failure;
}

// The bound is the dtype's plus the conditioning of the fp32 logits: small
// logits add next to nothing; large ones with a clear winner add nothing
// either (a one-hot row does not move); ties between large logits add.
TEST(SampledCheck, BoundFollowsConditioning) {
  AttentionSpec s;
  s.headDim = 2;
  s.dtype = RINGRT_F32;
  EXPECT_EQ(checkBound(s, Conditioning(), 1, 1), 1e-4);
  auto rowBound = [&](double qScale, double k1) {
    float q[2] = {static_cast<float>(qScale), 0};
    float k[2][2] = {{1, 0}, {static_cast<float>(k1), 0}};
    float v[2][2] = {{1, 0}, {0, 1}};
    double o[2];
    RowScratch scratch;
    Conditioning c;
    double lse = attentionRow(
        2, 2, 1.0, [&](int64_t d) { return q[d]; },
        [&](int64_t j, int64_t d) { return k[j][d]; },
        [&](int64_t j, int64_t d) { return v[j][d]; }, o, scratch, c);
    return checkBound(s, c, o[0] * o[0] + o[1] * o[1], lse * lse) - 1e-4;
  };
  EXPECT_LT(rowBound(1, 0.5), 1e-6);   // logits 1 and 0.5
  EXPECT_LT(rowBound(1e4, -1), 1e-6);  // 1e4 against -1e4: one-hot
  EXPECT_GT(rowBound(1e4, 1), 1e-4);   // a tie at 1e4
  s.dtype = RINGRT_BF16;
  EXPECT_EQ(checkBound(s, Conditioning(), 1, 1), 1e-2);
}

} // namespace
