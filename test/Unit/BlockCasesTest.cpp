//===- BlockCasesTest.cpp - tests of the per-stage block classes -*- C++ -*-===//
//
// This file tests the compile-time block classification of ring-schedule:
// zigzag and striped give every rank the same causal work at every stage,
// the contiguous layout does not, and no mask means full blocks. With
// sliding windows, the truncated stages and their per-rank cases cover
// every visible (query, key) pair exactly once, with the masks they need
// (checked pair by pair against the definition), also on uneven lengths
// (padded parts: padding rows take no part) and with a rank holding no
// token. The padding positions of Visibility.h are rejected by the kernels'
// lower test under every mask, and token rows match the layout.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockCases.h"
#include "passes/ScheduleTrace.h"
#include "mlir/IR/MLIRContext.h"

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

/// Whether key token j is visible to query token i (RingOps.td, brute force).
bool visible(int64_t i, int64_t j, bool causal, int64_t left, int64_t right) {
  return (!causal || j <= i) && (left < 0 || i - j <= left) &&
         (right < 0 || j - i <= right);
}

TEST(BlockCases, WindowStagesCoverEveryVisiblePairOnce) {
  struct Window {
    int64_t left, right;
  };
  for (Balance layout : {Balance::none, Balance::zigzag, Balance::striped})
    for (bool causal : {false, true})
      for (int64_t P : {1, 2, 3, 5, 8})
        for (Window w : {Window{-1, -1}, Window{0, -1}, Window{3, -1},
                         Window{-1, 2}, Window{5, 1}, Window{17, 9},
                         Window{100, 100}})
          // Even lengths, and padded parts (uneven, and fewer tokens than
          // ranks: a rank with no token).
          for (int64_t seq : {8 * P, 8 * P - 3, 8 * P + 5, P - 1}) {
          if (seq < 1)
            continue;
          AttentionPlan plan;
          plan.gridShape = {P};
          plan.axisOfRole = {0, -1, -1};
          plan.seq = seq;
          plan.balance = layout;
          plan.mask = causal ? MaskKind::causal : MaskKind::none;
          plan.windowLeft = w.left;
          plan.windowRight = w.right;
          const int64_t Ll = plan.localSeq(), L = plan.seq;
          RingStages stages = planRingStages(plan);
          EXPECT_EQ(stages.offsets.size(),
                    size_t(1 + stages.forward + stages.backward));
          std::vector<int> seen(L * L, 0);
          for (int64_t offset : stages.offsets)
            for (const BlockCase &c : classifyStage(plan, offset))
              for (int64_t p = 0; p < P; ++p) {
                int64_t src = ((p - offset) % P + P) % P;
                if (!appliesTo(c, src, p))
                  continue;
                for (int64_t a = c.q0; a < c.q0 + c.qn; ++a)
                  for (int64_t b = c.k0; b < c.k0 + c.kn; ++b) {
                    int64_t i = plan.globalToken(p, a),
                            j = plan.globalToken(src, b);
                    if (i < 0 || j < 0)
                      continue; // padding: masked by the block's seq_len
                    ++seen[i * L + j];
                    bool vis = visible(i, j, causal, w.left, w.right);
                    // A hidden pair inside a block needs the mask that
                    // hides it.
                    if (!vis && causal && j > i) {
                      EXPECT_EQ(c.mask, MaskKind::causal);
                    } else if (!vis) {
                      EXPECT_TRUE(c.window)
                          << "layout " << int(layout) << " P " << P;
                    }
                  }
              }
          for (int64_t i = 0; i < L; ++i)
            for (int64_t j = 0; j < L; ++j)
              if (visible(i, j, causal, w.left, w.right)) {
                ASSERT_EQ(seen[i * L + j], 1)
                    << "pair (" << i << ", " << j << "), layout "
                    << int(layout) << ", causal " << causal << ", P " << P
                    << ", window " << w.left << "/" << w.right
                    << ", seq " << L;
              }
          (void)Ll;
        }
}

/// The kernels' test (Visibility.h): lo <= qp − kp <= hi with the bounds
/// clamped to `span`.
bool kernelAdmits(int64_t qp, int64_t kp, bool causal, int64_t left,
                  int64_t right, int64_t span) {
  auto [lo, hi] = clampedDiffBounds(causal, left, right, span);
  return kp <= qp - lo && kp >= qp - hi;
}

TEST(Visibility, PaddingPositionsAreNeverVisible) {
  for (int64_t span : {1, 7, 64, 1000})
    for (bool causal : {false, true})
      for (auto [left, right] : {std::pair<int64_t, int64_t>{-1, -1},
                                 {0, -1}, {-1, 0}, {3, 5}, {5000, 5000}})
        for (int64_t p = 0; p < span; ++p) {
          // A padding key against every real query, a padding query
          // against every real key, and the two against each other.
          EXPECT_FALSE(kernelAdmits(p, paddingKeyPosition(span), causal, left,
                                    right, span));
          EXPECT_FALSE(kernelAdmits(paddingQueryPosition(span), p, causal,
                                    left, right, span));
          EXPECT_FALSE(kernelAdmits(paddingQueryPosition(span),
                                    paddingKeyPosition(span), causal, left,
                                    right, span));
        }
}

TEST(Visibility, CountVisiblePairsIsExact) {
  // Against pair-by-pair counting: strides 1 and 3 (striped), queries
  // before, inside and after the keys, causal or not, windows with one or
  // both sides and none.
  struct W {
    int64_t left, right;
  };
  for (int64_t stride : {1, 3})
    for (int64_t qFirst : {0, 5, 40})
      for (bool causal : {false, true})
        for (W w : {W{-1, -1}, W{4, -1}, W{-1, 2}, W{0, 0}, W{7, 3}}) {
          TokenRows q{qFirst, 9, stride}, k{10, 11, stride};
          auto [lo, hi] = windowDiffBounds(causal, w.left, w.right);
          int64_t expected = 0;
          for (int64_t a = 0; a < q.count; ++a)
            for (int64_t b = 0; b < k.count; ++b) {
              int64_t d = (q.first + a * q.stride) - (k.first + b * k.stride);
              expected += d >= lo && d <= hi;
            }
          EXPECT_EQ(countVisiblePairs(q, k, causal, w.left, w.right),
                    expected)
              << "stride " << stride << " q.first " << qFirst << " causal "
              << causal << " window " << w.left << "," << w.right;
        }
  EXPECT_EQ(countVisiblePairs({0, 0, 1}, {0, 5, 1}, false, -1, -1), 0);
}

TEST(Visibility, TokenRowsMatchTheLayout) {
  for (Balance layout : {Balance::none, Balance::zigzag, Balance::striped})
    for (int64_t P : {1, 3, 4})
      for (int64_t L : {1, 3, 7, 12, 25, 99}) {
        AttentionPlan plan;
        plan.gridShape = {P};
        plan.axisOfRole = {0, -1, -1};
        plan.seq = L;
        plan.balance = layout;
        int64_t Ll = plan.localSeq();
        int64_t half = layout == Balance::zigzag ? Ll / 2 : Ll;
        for (int64_t p = 0; p < P; ++p)
          for (int64_t r0 = 0; r0 < Ll; ++r0) {
            int64_t end = r0 < half ? half : Ll; // within one part
            for (int64_t n = 1; r0 + n <= end; ++n) {
              TokenRows t = plan.tokenRows(p, r0, n);
              for (int64_t r = r0; r < r0 + n; ++r) {
                int64_t g = plan.globalToken(p, r);
                bool inRun = r - r0 < t.count;
                ASSERT_EQ(g >= 0, inRun) << "row " << r << " rank " << p;
                if (inRun) {
                  ASSERT_EQ(g, t.first + (r - r0) * t.stride);
                }
              }
            }
          }
      }
}

TEST(BlockCases, ShortWindowIsAHalo) {
  AttentionPlan plan;
  plan.gridShape = {16};
  plan.axisOfRole = {0, -1, -1};
  plan.seq = 16 * 64;
  plan.mask = MaskKind::causal;
  plan.windowLeft = 10;
  for (Balance layout : {Balance::none, Balance::zigzag}) {
    plan.balance = layout;
    RingStages s = planRingStages(plan);
    // Contiguous: only the predecessor; zigzag: both neighbours.
    EXPECT_EQ(s.forward, 1);
    EXPECT_EQ(s.backward, layout == Balance::zigzag ? 1 : 0);
    EXPECT_EQ(s.saved(16), layout == Balance::zigzag ? 13 : 14);
  }
}
} // namespace
