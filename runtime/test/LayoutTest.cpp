//===- LayoutTest.cpp - grid and sequence layout maps -----------*- C++ -*-===//
//
// This file tests the layout maps of ringrt/Layout.h: every global token is
// owned exactly once and the inverse map agrees, for each balance.
//
//===----------------------------------------------------------------------===//

#include "ringrt/Layout.h"

#include <gtest/gtest.h>

#include <vector>

using namespace ringrt::layout;

namespace {

TEST(Layout, EveryTokenOwnedOnce) {
  for (Balance b : {Balance::None, Balance::Zigzag, Balance::Striped})
    for (int64_t P : {1, 2, 3, 4})
      for (int64_t L : {24, 48, 96}) {
        ASSERT_EQ(checkSeqSplit(b, L, P), "");
        std::vector<int> seen(static_cast<size_t>(L), 0);
        for (int64_t p = 0; p < P; ++p)
          for (int64_t i = 0; i < L / P; ++i) {
            int64_t g = globalToken(b, L, P, p, i);
            ASSERT_GE(g, 0);
            ASSERT_LT(g, L);
            ++seen[static_cast<size_t>(g)];
            auto owner = tokenOwner(b, L, P, g);
            EXPECT_EQ(owner.first, p) << balanceName(b);
            EXPECT_EQ(owner.second, i) << balanceName(b);
          }
        for (int c : seen)
          EXPECT_EQ(c, 1) << balanceName(b) << " P=" << P << " L=" << L;
      }
}

TEST(Layout, Examples) {
  // zigzag, P = 2, L = 8: rank 0 holds chunks 0 and 3, rank 1 chunks 1, 2.
  EXPECT_EQ(globalToken(Balance::Zigzag, 8, 2, 0, 2), 6);
  EXPECT_EQ(globalToken(Balance::Zigzag, 8, 2, 1, 0), 2);
  EXPECT_EQ(globalToken(Balance::Zigzag, 8, 2, 1, 3), 5);
  EXPECT_EQ(globalToken(Balance::Striped, 8, 2, 1, 3), 7);
  EXPECT_EQ(globalToken(Balance::None, 8, 2, 1, 3), 7);
  EXPECT_NE(checkSeqSplit(Balance::Zigzag, 12, 4), "");
  EXPECT_EQ(checkSeqSplit(Balance::Striped, 12, 4), "");
  Balance b;
  EXPECT_TRUE(parseBalance("striped", b));
  EXPECT_EQ(b, Balance::Striped);
  EXPECT_FALSE(parseBalance("diagonal", b));
}

TEST(Layout, GridRowMajor) {
  int64_t shape[3] = {4, 2, 3}, c[3];
  for (int64_t r = 0; r < 24; ++r) {
    gridCoords(shape, 3, r, c);
    EXPECT_EQ(c[2], r % 3); // last axis fastest
    EXPECT_EQ(c[0], r / 6);
    EXPECT_EQ(gridLinear(shape, 3, c), r);
  }
  Range r = evenBlock(8, 2, 1);
  EXPECT_EQ(r.begin, 4);
  EXPECT_EQ(r.end, 8);
}

} // namespace
