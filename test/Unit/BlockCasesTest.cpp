//===- BlockCasesTest.cpp - tests of the per-stage block classes -*- C++ -*-===//
//
// This file tests the compile-time block classification of ring-schedule:
// zigzag and striped give every rank the same causal work at every stage,
// the contiguous layout does not, and no mask means full blocks.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockCases.h"

#include "gtest/gtest.h"

using namespace mlir::ring;

namespace {
TEST(BlockCases, ZigzagAndStripedAreBalanced) {
  for (Balance layout : {Balance::zigzag, Balance::striped})
    for (int64_t P = 1; P <= 16; ++P) {
      const int64_t localSeq = 64;
      for (int64_t t = 0; t < P; ++t) {
        int64_t w0 = stageWork(layout, true, P, localSeq, t, 0);
        EXPECT_GT(w0, 0);
        for (int64_t p = 1; p < P; ++p)
          EXPECT_EQ(stageWork(layout, true, P, localSeq, t, p), w0)
              << stringifyBalance(layout).str() << " P=" << P
              << " stage=" << t << " rank=" << p;
      }
    }
}

TEST(BlockCases, ContiguousCausalIsUnbalanced) {
  const int64_t P = 4, Ll = 32;
  // Rank p computes the diagonal and p full blocks; rank 0 idles after
  // stage 0 while rank P-1 works every stage.
  for (int64_t p = 0; p < P; ++p) {
    int64_t total = 0;
    for (int64_t t = 0; t < P; ++t)
      total += stageWork(Balance::none, true, P, Ll, t, p);
    EXPECT_EQ(total, (p + 1) * Ll * Ll) << "rank " << p;
  }
}

TEST(BlockCases, ZigzagHalvesLaterStages) {
  const int64_t Ll = 64;
  auto cases = classifyStage(Balance::zigzag, true, 4, Ll, 2);
  ASSERT_EQ(cases.size(), 2u);
  for (const BlockCase &c : cases) {
    EXPECT_EQ(c.work(), Ll * Ll / 2);
    EXPECT_EQ(c.mask, MaskKind::none);
  }
  EXPECT_EQ(cases[0].condition, BlockCondition::SrcBeforeRank);
  EXPECT_EQ(cases[1].condition, BlockCondition::SrcAfterRank);
}

TEST(BlockCases, NoMaskMeansFullBlocks) {
  for (Balance layout : {Balance::none, Balance::zigzag, Balance::striped})
    for (int64_t t = 0; t < 3; ++t) {
      auto cases = classifyStage(layout, false, 3, 24, t);
      ASSERT_EQ(cases.size(), 1u);
      EXPECT_EQ(cases[0].condition, BlockCondition::Always);
      EXPECT_EQ(cases[0].work(), 24 * 24);
      EXPECT_EQ(cases[0].mask, MaskKind::none);
    }
}
} // namespace
