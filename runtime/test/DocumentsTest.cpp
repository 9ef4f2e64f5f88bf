//===- DocumentsTest.cpp - packed documents (varlen) ------------*- C++ -*-===//
//
// This file tests ringrt_check_cu_seqlens's verdicts and messages, and
// ring-run's side of varlen runs (Documents.h): the boundaries from
// --seqlens, the seeded split, the document mask of the reference's
// visible key ranges, and the per-rank balance report.
//
//===----------------------------------------------------------------------===//

#include "Documents.h"
#include "ringrt/ringrt.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ringrun;

namespace {

std::string check(std::vector<int32_t> cu, int64_t seq) {
  if (ringrt_check_cu_seqlens(cu.data(), static_cast<int64_t>(cu.size()) - 1,
                              seq) == RINGRT_OK)
    return "ok";
  return ringrt_last_error();
}

TEST(CuSeqlens, AcceptsMonotoneBoundariesWithEmptyDocuments) {
  EXPECT_EQ(check({0, 64}, 64), "ok");
  EXPECT_EQ(check({0, 10, 10, 64, 64}, 64), "ok");
  EXPECT_EQ(check({0, 0, 64}, 64), "ok");
}

TEST(CuSeqlens, NamesTheFirstBadIndex) {
  EXPECT_EQ(check({0, 40, 20, 64}, 64),
            "cu_seqlens is not non-decreasing: cu_seqlens[2] = 20 < "
            "cu_seqlens[1] = 40 (document 1 would have a negative length)");
  EXPECT_EQ(check({3, 40, 64}, 64),
            "cu_seqlens[0] = 3, but the first document starts at token 0 "
            "(cu_seqlens[0] = 0)");
  EXPECT_EQ(check({0, 40, 63}, 64),
            "cu_seqlens[2] = 63, but the last boundary must be the sequence "
            "length 64 (unused trailing documents repeat it)");
  EXPECT_NE(ringrt_check_cu_seqlens(nullptr, 2, 64), RINGRT_OK);
  EXPECT_NE(std::string(ringrt_last_error()).find("NULL"), std::string::npos);
}

AttentionSpec varlen(int64_t seq, int64_t ring, int64_t maxDocs) {
  AttentionSpec s;
  s.seq = seq;
  s.ring = ring;
  s.maxDocs = maxDocs;
  return s;
}

TEST(Documents, SeqlensBecomeBoundariesPaddedWithTheLength) {
  AttentionSpec s = varlen(100, 2, 5);
  ASSERT_EQ(setDocuments(s, "30,0,70", "", 0), "");
  EXPECT_EQ(s.cuSeqlens, (std::vector<int32_t>{0, 30, 30, 100, 100, 100}));
  EXPECT_EQ(setDocuments(s, "30,60", "", 0),
            "--seqlens: the document lengths sum to 90, but the sequence has "
            "100 tokens; they must add up to it exactly");
  EXPECT_EQ(setDocuments(s, "10,10,10,10,10,50", "", 0),
            "--seqlens: 6 documents, but the artifact packs at most "
            "max_docs = 5");
  EXPECT_NE(setDocuments(s, "10,-1,91", "", 0).find("--seqlens: expected"),
            std::string::npos);
  AttentionSpec plain = varlen(100, 2, 0);
  EXPECT_NE(setDocuments(plain, "100", "", 0).find("needs a varlen artifact"),
            std::string::npos);
}

TEST(Documents, SeededSplitsAreValidAndVary) {
  AttentionSpec s = varlen(97, 4, 6);
  std::vector<int32_t> first;
  bool differs = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    ASSERT_EQ(setDocuments(s, "", "", seed), "");
    ASSERT_EQ(s.cuSeqlens.size(), 7u);
    EXPECT_EQ(ringrt_check_cu_seqlens(s.cuSeqlens.data(), 6, 97), RINGRT_OK)
        << describeDocuments(s);
    if (seed == 0)
      first = s.cuSeqlens;
    differs = differs || s.cuSeqlens != first;
  }
  EXPECT_TRUE(differs);
}

TEST(Documents, VisibleKeysStayInTheDocument) {
  AttentionSpec s = varlen(20, 1, 3);
  s.causal = true;
  ASSERT_EQ(setDocuments(s, "5,0,15", "", 0), "");
  EXPECT_EQ(s.visibleKeys(0), (std::pair<int64_t, int64_t>{0, 1}));
  EXPECT_EQ(s.visibleKeys(4), (std::pair<int64_t, int64_t>{0, 5}));
  EXPECT_EQ(s.visibleKeys(5), (std::pair<int64_t, int64_t>{5, 6}));
  EXPECT_EQ(s.visibleKeys(19), (std::pair<int64_t, int64_t>{5, 20}));
  s.causal = false;
  s.windowLeft = 2;
  s.windowRight = 1;
  EXPECT_EQ(s.visibleKeys(4), (std::pair<int64_t, int64_t>{2, 5}));
  EXPECT_EQ(s.visibleKeys(5), (std::pair<int64_t, int64_t>{5, 7}));
}

TEST(Documents, BalanceCountsEachRanksVisiblePairs) {
  // Not causal, contiguous, 2 ranks of 8 tokens: documents 4 + 12 give
  // rank 0 rows 0-3 (4 keys each) and 4-7 (12 keys), rank 1 12 keys each.
  AttentionSpec s = varlen(16, 2, 2);
  ASSERT_EQ(setDocuments(s, "4,12", "", 0), "");
  std::vector<double> pairs = rankVisiblePairs(s);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], 4 * 4 + 4 * 12);
  EXPECT_EQ(pairs[1], 8 * 12);
  std::string report = balanceReport(s);
  EXPECT_NE(report.find("ring_rank=1 visible_pairs=96 share=60.0%"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("max_over_mean=1.200"), std::string::npos) << report;
}

} // namespace
