//===- LayoutTest.cpp - grid and sequence layout maps -----------*- C++ -*-===//
//
// This file tests the layout maps of ringrt/Layout.h: every global token is
// owned exactly once and the inverse map agrees, for each balance and for
// lengths that do not divide into the ring's parts (padded parts).
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
      for (int64_t L : {1, 3, 7, 24, 48, 96, 97, 999, 1000}) {
        std::vector<int> seen(static_cast<size_t>(L), 0);
        int64_t rows = localRows(b, L, P), owned = 0;
        EXPECT_EQ(hasPadding(b, L, P), rows * P != L) << balanceName(b);
        for (int64_t p = 0; p < P; ++p) {
          int64_t tokens = 0;
          for (int64_t i = 0; i < rows; ++i) {
            int64_t g = globalToken(b, L, P, p, i);
            if (g < 0)
              continue;
            ++tokens;
            ASSERT_LT(g, L);
            ++seen[static_cast<size_t>(g)];
            auto owner = tokenOwner(b, L, P, g);
            EXPECT_EQ(owner.first, p) << balanceName(b);
            EXPECT_EQ(owner.second, i) << balanceName(b);
          }
          // Near-equal shares: ceil or floor of L/P (zigzag: of its parts).
          EXPECT_EQ(tokens, rankTokens(b, L, P, p));
          EXPECT_LE(tokens, (L + P - 1) / P + (b == Balance::Zigzag));
          EXPECT_GE(tokens, L / P - (b == Balance::Zigzag));
          owned += tokens;
        }
        EXPECT_EQ(owned, L);
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
  // Uneven: L = 10 on P = 3 (none) is 4 + 3 + 3 tokens in rows of 4.
  EXPECT_EQ(localRows(Balance::None, 10, 3), 4);
  EXPECT_EQ(globalToken(Balance::None, 10, 3, 1, 0), 4);
  EXPECT_EQ(globalToken(Balance::None, 10, 3, 1, 3), -1);
  EXPECT_EQ(globalToken(Balance::None, 10, 3, 2, 2), 9);
  // zigzag L = 7 on P = 2: chunks of 2, 2, 2, 1; rank 1 holds chunks 1
  // (tokens 2, 3) and 2 (tokens 4, 5); rank 0 chunks 0 (0, 1) and 3 (6).
  EXPECT_EQ(localRows(Balance::Zigzag, 7, 2), 4);
  EXPECT_EQ(globalToken(Balance::Zigzag, 7, 2, 1, 2), 4);
  EXPECT_EQ(globalToken(Balance::Zigzag, 7, 2, 0, 2), 6);
  EXPECT_EQ(globalToken(Balance::Zigzag, 7, 2, 0, 3), -1);
  // L = 3 on P = 4: rank 3 holds nothing.
  EXPECT_EQ(rankTokens(Balance::None, 3, 4, 3), 0);
  EXPECT_EQ(rankTokens(Balance::Striped, 3, 4, 3), 0);
  EXPECT_EQ(globalToken(Balance::Striped, 3, 4, 3, 0), -1);
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

/// Runs one all-to-all over U in-memory ranks: recv[m] gets every peer's
/// block for m, as ringrt's backends move it.
std::vector<std::vector<int32_t>>
exchange(A2AMode mode, const A2AShape &s, int64_t U,
         const std::vector<std::vector<int32_t>> &send) {
  std::vector<std::vector<int32_t>> recv(
      U, std::vector<int32_t>(s.batch * s.dstHeads * s.dstSeq, -1));
  for (int64_t m = 0; m < U; ++m)
    for (int64_t j = 0; j < U; ++j)
      copyA2ABlock(reinterpret_cast<const char *>(send[j].data()),
                   a2aSendBlock(mode, s, U, m, j),
                   reinterpret_cast<char *>(recv[m].data()),
                   a2aRecvBlock(mode, s, U, j, m));
  return recv;
}

TEST(Layout, AllToAllTurnsSequenceShardsIntoHeadShardsAndBack) {
  // U = 4 ranks, B = 2, H = 8 heads, 3 tokens per rank; one int32 per
  // (batch, head, token) cell (row_bytes 4): value = b*1000 + h*100 + t.
  const int64_t U = 4, B = 2, H = 8, S = 3;
  A2AShape toHeads{B, H, S, H / U, U * S, 4};
  ASSERT_EQ(checkA2A(A2AMode::SeqToHeads, toHeads, U), "");
  std::vector<std::vector<int32_t>> seq(U);
  for (int64_t u = 0; u < U; ++u)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < S; ++t)
          seq[u].push_back(b * 1000 + h * 100 + u * S + t);
  auto heads = exchange(A2AMode::SeqToHeads, toHeads, U, seq);
  for (int64_t m = 0; m < U; ++m)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H / U; ++h)
        for (int64_t t = 0; t < U * S; ++t)
          EXPECT_EQ(heads[m][(b * (H / U) + h) * U * S + t],
                    b * 1000 + (m * (H / U) + h) * 100 + t);
  A2AShape toSeq{B, H / U, U * S, H, S, 4};
  ASSERT_EQ(checkA2A(A2AMode::HeadsToSeq, toSeq, U), "");
  EXPECT_EQ(exchange(A2AMode::HeadsToSeq, toSeq, U, heads), seq);
}

TEST(Layout, AllToAllReplicatesKeyValueHeadsBeyondTheirCount) {
  // 2 key/value heads over U = 4: rank m gets head m / 2, all tokens.
  const int64_t U = 4, H = 2, S = 2;
  A2AShape s{1, H, S, 1, U * S, 4};
  ASSERT_EQ(checkA2A(A2AMode::SeqToHeads, s, U), "");
  std::vector<std::vector<int32_t>> seq(U);
  for (int64_t u = 0; u < U; ++u)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < S; ++t)
        seq[u].push_back(h * 100 + u * S + t);
  auto heads = exchange(A2AMode::SeqToHeads, s, U, seq);
  for (int64_t m = 0; m < U; ++m)
    for (int64_t t = 0; t < U * S; ++t)
      EXPECT_EQ(heads[m][t], (m / 2) * 100 + t);
  // 3 heads over 4 ranks would split a rank's query heads: refused.
  EXPECT_NE(checkA2A(A2AMode::SeqToHeads, A2AShape{1, 3, S, 1, U * S, 4}, U),
            "");
}

TEST(Layout, AllToAllSplitsUnevenBlocksIntoNearEqualShares) {
  // A ring block of S = 7 rows over U = 3: shares of 3, 2, 2 rows from rows
  // 0, 3, 5, in buffers of ceil(7/3) = 3 rows; the last row of ranks 1 and
  // 2 is a2a padding. Cell value b*1000 + h*100 + ring-local row.
  const int64_t U = 3, B = 2, H = 6, S = 7, Ss = 3;
  EXPECT_EQ(a2aRows(S, U), Ss);
  EXPECT_EQ(a2aShareRows(S, U, 0), 3);
  EXPECT_EQ(a2aShareRows(S, U, 2), 2);
  EXPECT_EQ(a2aShareStart(S, U, 2), 5);
  A2AShape toHeads{B, H, Ss, H / U, S, 4};
  ASSERT_EQ(checkA2A(A2AMode::SeqToHeads, toHeads, U), "");
  EXPECT_NE(checkA2A(A2AMode::SeqToHeads, A2AShape{B, H, Ss, H / U, 10, 4}, U),
            "");
  std::vector<std::vector<int32_t>> seq(U);
  for (int64_t u = 0; u < U; ++u)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < Ss; ++t)
          seq[u].push_back(t < a2aShareRows(S, U, u)
                               ? int32_t(b * 1000 + h * 100 +
                                         a2aShareStart(S, U, u) + t)
                               : -7); // a2a padding: never sent
  auto heads = exchange(A2AMode::SeqToHeads, toHeads, U, seq);
  for (int64_t m = 0; m < U; ++m)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H / U; ++h)
        for (int64_t t = 0; t < S; ++t)
          EXPECT_EQ(heads[m][(b * (H / U) + h) * S + t],
                    b * 1000 + (m * (H / U) + h) * 100 + t);
  // Back: the padding rows are never written (exchange fills with -1).
  A2AShape toSeq{B, H / U, S, H, Ss, 4};
  ASSERT_EQ(checkA2A(A2AMode::HeadsToSeq, toSeq, U), "");
  auto back = exchange(A2AMode::HeadsToSeq, toSeq, U, heads);
  for (int64_t u = 0; u < U; ++u)
    for (size_t i = 0; i < back[u].size(); ++i)
      EXPECT_EQ(back[u][i], seq[u][i] == -7 ? -1 : seq[u][i]) << u << " " << i;
  // A share may be empty: S = 2 over U = 3 (rank 2 holds only padding).
  A2AShape tiny{1, 3, 1, 1, 2, 4};
  ASSERT_EQ(checkA2A(A2AMode::SeqToHeads, tiny, U), "");
  EXPECT_EQ(a2aSendBlock(A2AMode::SeqToHeads, tiny, U, 0, 2).bytes(), 0);
  EXPECT_EQ(a2aRecvBlock(A2AMode::SeqToHeads, tiny, U, 2, 0).bytes(), 0);
}

} // namespace
