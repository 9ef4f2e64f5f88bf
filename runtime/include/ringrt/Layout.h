//===- Layout.h - shard grid and sequence layout maps -----------*- C++ -*-===//
//
// This file defines, header-only, the maps between global and per-rank
// indices that ringrt, ring-run and the compiler share: the row-major world
// rank <-> grid coordinate map, the sequence layouts of the ring axis (none,
// zigzag, striped; any length, padded per part), and the even splits of heads over head groups and of the
// head dimension over dim slices (DESIGN.md sections 1 and 4).
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LAYOUT_H
#define RINGRT_LAYOUT_H

#include <cstdint>
#include <string>
#include <utility>

namespace ringrt {
namespace layout {

/// How the L tokens of a sequence are distributed over the P ring ranks.
enum class Balance { None, Zigzag, Striped };

/// Parses "none", "zigzag" or "striped"; returns false otherwise.
inline bool parseBalance(const std::string &s, Balance &out) {
  if (s == "none")
    out = Balance::None;
  else if (s == "zigzag")
    out = Balance::Zigzag;
  else if (s == "striped")
    out = Balance::Striped;
  else
    return false;
  return true;
}

/// Returns the spelling of `b` used in specs and manifests.
inline const char *balanceName(Balance b) {
  switch (b) {
  case Balance::None:
    return "none";
  case Balance::Zigzag:
    return "zigzag";
  case Balance::Striped:
    return "striped";
  }
  return "?";
}

/// Sequences of any length L >= 1 split over P ring ranks. The sequence is
/// cut into `parts` near-equal parts (P, or 2P for zigzag): part c holds
/// L/parts tokens, plus one when c < L % parts, and starts at token
/// c*(L/parts) + min(c, L % parts). Every rank's buffers have the same
/// number of local rows, localRows(): a rank holds one part (none), or two
/// (zigzag: part p in local rows [0, C) and part 2P-1-p in [C, 2C), C =
/// ceil(L/2P)), each at the start of its slot; striped puts token i*P + p at
/// local row i. Rows past a part's tokens are padding: the kernels mask
/// them, never reading them into a result, and write O = 0, LSE = -inf
/// there. When parts divides L there is no padding and the maps are the
/// plain ones (none: p*L/P + i; zigzag: chunks p and 2P-1-p of L/2P).

/// The number of parts the sequence is cut into: 2P for zigzag, else P.
inline int64_t seqParts(Balance b, int64_t P) {
  return b == Balance::Zigzag ? 2 * P : P;
}

/// Local rows of every rank's Q/K/V/O/LSE buffers: ceil(L/P), or
/// 2*ceil(L/2P) for zigzag.
inline int64_t localRows(Balance b, int64_t L, int64_t P) {
  int64_t parts = seqParts(b, P);
  int64_t per = (L + parts - 1) / parts;
  return b == Balance::Zigzag ? 2 * per : per;
}

/// Whether the buffers of some rank hold padding rows (parts does not
/// divide L).
inline bool hasPadding(Balance b, int64_t L, int64_t P) {
  return L % seqParts(b, P) != 0;
}

/// Tokens of part `c` of `parts` (L/parts, or one more for c < L % parts).
inline int64_t partTokens(int64_t L, int64_t parts, int64_t c) {
  return L / parts + (c < L % parts ? 1 : 0);
}

/// First global token of part `c` of `parts`.
inline int64_t partStart(int64_t L, int64_t parts, int64_t c) {
  return c * (L / parts) + (c < L % parts ? c : L % parts);
}

/// Global token of local row `i` (0 <= i < localRows) on ring rank `p`, or
/// -1 when that row is padding.
inline int64_t globalToken(Balance b, int64_t L, int64_t P, int64_t p,
                           int64_t i) {
  switch (b) {
  case Balance::None:
    return i < partTokens(L, P, p) ? partStart(L, P, p) + i : -1;
  case Balance::Zigzag: {
    int64_t C = localRows(b, L, P) / 2;
    int64_t part = i < C ? p : 2 * P - 1 - p, off = i < C ? i : i - C;
    return off < partTokens(L, 2 * P, part) ? partStart(L, 2 * P, part) + off
                                            : -1;
  }
  case Balance::Striped:
    return i * P + p < L ? i * P + p : -1;
  }
  return -1;
}

/// How many of local rows i, i+1, ... of ring rank `p` hold tokens before
/// the end of the part that holds row i (0 when row i is padding): a part's
/// tokens are a prefix of its rows (striped: of all the rank's rows).
inline int64_t tokenRowsFrom(Balance b, int64_t L, int64_t P, int64_t p,
                             int64_t i) {
  int64_t n = 0;
  switch (b) {
  case Balance::None:
    n = partTokens(L, P, p) - i;
    break;
  case Balance::Zigzag: {
    int64_t C = localRows(b, L, P) / 2;
    n = i < C ? partTokens(L, 2 * P, p) - i
              : partTokens(L, 2 * P, 2 * P - 1 - p) - (i - C);
    break;
  }
  case Balance::Striped:
    n = (p < L ? (L - p + P - 1) / P : 0) - i;
    break;
  }
  return n > 0 ? n : 0;
}

/// Inverse of globalToken: the (ring rank, local row) holding global token
/// `g` (0 <= g < L).
inline std::pair<int64_t, int64_t> tokenOwner(Balance b, int64_t L, int64_t P,
                                              int64_t g) {
  if (b == Balance::Striped)
    return {g % P, g / P};
  int64_t parts = seqParts(b, P), q = L / parts, r = L % parts;
  // The first r parts hold q + 1 tokens, the others q.
  int64_t part = g < r * (q + 1) ? g / (q + 1) : r + (g - r * (q + 1)) / q;
  int64_t off = g - partStart(L, parts, part);
  if (b == Balance::None)
    return {part, off};
  int64_t C = localRows(b, L, P) / 2;
  if (part < P)
    return {part, off};
  return {2 * P - 1 - part, C + off};
}

/// Tokens ring rank `p` holds (its local rows that are not padding).
inline int64_t rankTokens(Balance b, int64_t L, int64_t P, int64_t p) {
  switch (b) {
  case Balance::None:
    return partTokens(L, P, p);
  case Balance::Zigzag:
    return partTokens(L, 2 * P, p) + partTokens(L, 2 * P, 2 * P - 1 - p);
  case Balance::Striped:
    return p < L ? (L - p + P - 1) / P : 0;
  }
  return 0;
}

/// A half-open index range [begin, end).
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

/// The block `part` of `total` items split evenly into `parts` blocks
/// (heads over head groups, head-dim columns over dim slices).
inline Range evenBlock(int64_t total, int64_t parts, int64_t part) {
  int64_t per = total / parts;
  return {part * per, (part + 1) * per};
}

//===----------------------------------------------------------------------===//
// The all-to-all (Ulysses) exchange over an a2a axis of U ranks
//===----------------------------------------------------------------------===//
//
// Tensors are [B, H, S, W]: batch, heads, tokens, and W bytes per token row
// (head_dim x element size; 4 for an LSE). The ring's local block of S rows
// (localRows, ring padding included) is cut into U shares of near-equal
// size: share u holds a2aShareRows(S, U, u) = floor(S/U) rows, one more for
// u < S % U, from row a2aShareStart(S, U, u) (partTokens / partStart). Rank
// u of the a2a axis holds its share in a buffer of a2aRows(S, U) =
// ceil(S/U) rows; rows past its share are a2a padding: never sent, and
// never written by an exchange into that buffer. When U divides S the
// shares are the plain [u·S/U, (u+1)·S/U) and there is no a2a padding.
//
// SeqToHeads turns src [B, Hs, Ss, W] (all heads, Ss = ceil(S/U) rows)
// into dst [B, Hd, S, W] (Hd heads, all S rows): a2a rank j gets heads
// [floor(j·Hs/U), +Hd), where Hd = Hs/U, or Hd = 1 when Hs < U and U is a
// multiple of Hs (key/value heads of GQA replicated: the query heads of
// rank j all use head floor(j·Hs/U)). Source i's share lands at its rows
// [a2aShareStart(S, U, i), +a2aShareRows(S, U, i)).
// HeadsToSeq is the inverse for query-head tensors: src [B, Hs, S, W] to
// dst [B, U·Hs, Sd, W], Sd = ceil(S/U); source i's heads land at
// [i·Hs, (i+1)·Hs), in the destination's share rows.

/// Rows of every a2a rank's buffers: ceil(S/U).
inline int64_t a2aRows(int64_t S, int64_t U) { return (S + U - 1) / U; }
/// Rows of the share of a2a rank `u` and its first row in the ring's local
/// block of S rows.
inline int64_t a2aShareRows(int64_t S, int64_t U, int64_t u) {
  return partTokens(S, U, u);
}
inline int64_t a2aShareStart(int64_t S, int64_t U, int64_t u) {
  return partStart(S, U, u);
}

/// The direction of an all-to-all (the numbering of ring.all_to_all's mode
/// and of ringrt_all_to_all).
enum class A2AMode { SeqToHeads = 0, HeadsToSeq = 1 };

/// The shape of one all-to-all: source and destination [B, H, S, W].
struct A2AShape {
  int64_t batch = 1, srcHeads = 1, srcSeq = 1, dstHeads = 1, dstSeq = 1;
  int64_t rowBytes = 1;
};

/// `groups` groups, `groupStride` bytes apart, of `rows` runs of
/// `rowBytes` bytes, `stride` bytes apart, from `offset`. Runs are in
/// group-major order; a block with rowBytes 0 or rows 0 is empty.
struct A2ABlock {
  int64_t offset = 0, rows = 0, stride = 0, rowBytes = 0;
  int64_t groups = 1, groupStride = 0;
  int64_t runs() const { return groups * rows; }
  /// The offset of run `k` (0 <= k < runs()).
  int64_t runOffset(int64_t k) const {
    return offset + (k / rows) * groupStride + (k % rows) * stride;
  }
  int64_t bytes() const { return groups * rows * rowBytes; }
};

/// Returns "" if `s` is a valid all-to-all of `mode` over `U` ranks, else
/// what is wrong.
inline std::string checkA2A(A2AMode mode, const A2AShape &s, int64_t U) {
  if (U < 1 || s.batch < 1 || s.srcHeads < 1 || s.srcSeq < 1 ||
      s.dstHeads < 1 || s.dstSeq < 1 || s.rowBytes < 1)
    return "sizes must be positive";
  auto str = [](int64_t v) { return std::to_string(v); };
  if (mode == A2AMode::SeqToHeads) {
    if (s.srcSeq != a2aRows(s.dstSeq, U))
      return "sequence to heads over " + str(U) + " ranks of " +
             str(s.dstSeq) + " destination tokens needs " +
             str(a2aRows(s.dstSeq, U)) + " source tokens, not " +
             str(s.srcSeq);
    bool split = s.srcHeads == U * s.dstHeads;
    bool replicated = s.dstHeads == 1 && s.srcHeads < U && U % s.srcHeads == 0;
    if (!split && !replicated)
      return "sequence to heads over " + str(U) + " ranks cannot turn " +
             str(s.srcHeads) + " heads into " + str(s.dstHeads) +
             " per rank (heads/U, or 1 when U is a multiple of heads)";
    return "";
  }
  if (s.dstSeq != a2aRows(s.srcSeq, U))
    return "heads to sequence over " + str(U) + " ranks of " + str(s.srcSeq) +
           " source tokens needs " + str(a2aRows(s.srcSeq, U)) +
           " destination tokens, not " + str(s.dstSeq);
  if (s.dstHeads != U * s.srcHeads)
    return "heads to sequence over " + str(U) + " ranks needs " +
           str(U * s.srcHeads) + " destination heads, not " +
           str(s.dstHeads);
  return "";
}

/// A block of `heads` heads x `batch` batches of `tokens` token rows each
/// (`W` bytes a row) in a buffer of [B, H, S] rows, from `offset`: one run
/// per batch when the rows of its heads are contiguous, else one per head.
inline A2ABlock a2aHeadRows(int64_t offset, int64_t batch, int64_t H,
                            int64_t S, int64_t heads, int64_t tokens,
                            int64_t W) {
  if (tokens == S) // the heads' rows are contiguous
    return {offset, batch, H * S * W, heads * S * W, 1, 0};
  return {offset, heads, S * W, tokens * W, batch, H * S * W};
}

/// The bytes of the source that go to a2a rank `peer` (offsets from the
/// source's base) when this rank is a2a rank `me`. `s` must pass checkA2A.
inline A2ABlock a2aSendBlock(A2AMode mode, const A2AShape &s, int64_t U,
                             int64_t peer, int64_t me) {
  const int64_t W = s.rowBytes;
  if (mode == A2AMode::SeqToHeads) // heads of peer, my share's tokens
    return a2aHeadRows((peer * s.srcHeads / U) * s.srcSeq * W, s.batch,
                       s.srcHeads, s.srcSeq, s.dstHeads,
                       a2aShareRows(s.dstSeq, U, me), W);
  // tokens of peer's share, all my heads
  return {a2aShareStart(s.srcSeq, U, peer) * W, s.batch * s.srcHeads,
          s.srcSeq * W, a2aShareRows(s.srcSeq, U, peer) * W, 1, 0};
}

/// Where the bytes from a2a rank `peer` land in the destination of a2a
/// rank `me`.
inline A2ABlock a2aRecvBlock(A2AMode mode, const A2AShape &s, int64_t U,
                             int64_t peer, int64_t me) {
  const int64_t W = s.rowBytes;
  if (mode == A2AMode::SeqToHeads) // peer's share, all my heads
    return {a2aShareStart(s.dstSeq, U, peer) * W, s.batch * s.dstHeads,
            s.dstSeq * W, a2aShareRows(s.dstSeq, U, peer) * W, 1, 0};
  // peer's heads, my share's tokens
  return a2aHeadRows(peer * s.srcHeads * s.dstSeq * W, s.batch, s.dstHeads,
                     s.dstSeq, s.srcHeads, a2aShareRows(s.srcSeq, U, me), W);
}

/// Copies block `from` of `src` to block `to` of `dst` (equal byte counts;
/// run boundaries may differ). Used for the rank's own block and to pack
/// and unpack staging buffers.
inline void copyA2ABlock(const char *src, const A2ABlock &from, char *dst,
                         const A2ABlock &to) {
  int64_t fr = 0, fo = 0, tr = 0, to2 = 0;
  if (from.rowBytes == 0 || to.rowBytes == 0)
    return;
  while (fr < from.runs() && tr < to.runs()) {
    int64_t n = from.rowBytes - fo;
    if (to.rowBytes - to2 < n)
      n = to.rowBytes - to2;
    const char *a = src + from.runOffset(fr) + fo;
    char *b = dst + to.runOffset(tr) + to2;
    for (int64_t i = 0; i < n; ++i)
      b[i] = a[i];
    fo += n;
    to2 += n;
    if (fo == from.rowBytes)
      ++fr, fo = 0;
    if (to2 == to.rowBytes)
      ++tr, to2 = 0;
  }
}

/// Grid coordinates of world rank `rank` in a grid of `gridRank` axes with
/// row-major linearization (last axis fastest, upstream `shard` convention).
inline void gridCoords(const int64_t *shape, int gridRank, int64_t rank,
                       int64_t *coords) {
  for (int a = gridRank - 1; a >= 0; --a) {
    coords[a] = rank % shape[a];
    rank /= shape[a];
  }
}

/// World rank of grid coordinates `coords` (inverse of gridCoords).
inline int64_t gridLinear(const int64_t *shape, int gridRank,
                          const int64_t *coords) {
  int64_t r = 0;
  for (int a = 0; a < gridRank; ++a)
    r = r * shape[a] + coords[a];
  return r;
}

} // namespace layout
} // namespace ringrt

#endif // RINGRT_LAYOUT_H
