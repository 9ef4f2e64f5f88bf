//===- Layout.h - shard grid and sequence layout maps -----------*- C++ -*-===//
//
// This file defines, header-only, the maps between global and per-rank
// indices that ringrt, ring-run and the compiler share: the row-major world
// rank <-> grid coordinate map, the sequence layouts of the ring axis (none,
// zigzag, striped), and the even splits of heads over head groups and of the
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

/// Returns "" if a sequence of `L` tokens splits over `P` ring ranks with
/// balance `b`, else the reason it does not.
inline std::string checkSeqSplit(Balance b, int64_t L, int64_t P) {
  if (P < 1 || L < 1)
    return "sequence length and ring size must be positive";
  int64_t parts = b == Balance::Zigzag ? 2 * P : P;
  if (L % parts != 0)
    return "seq " + std::to_string(L) + " is not divisible by " +
           std::to_string(parts) +
           (b == Balance::Zigzag ? " (2 x ring, zigzag chunks)" : " (ring)");
  return "";
}

/// Global token index of local token `i` (0 <= i < L/P) on ring rank `p`.
/// none: p*Ll + i. zigzag (C = L/(2P)): local [0,C) is global chunk p,
/// local [C,2C) is global chunk 2P-1-p. striped: i*P + p.
inline int64_t globalToken(Balance b, int64_t L, int64_t P, int64_t p,
                           int64_t i) {
  int64_t Ll = L / P;
  switch (b) {
  case Balance::None:
    return p * Ll + i;
  case Balance::Zigzag: {
    int64_t C = L / (2 * P);
    return i < C ? p * C + i : (2 * P - 1 - p) * C + (i - C);
  }
  case Balance::Striped:
    return i * P + p;
  }
  return -1;
}

/// Inverse of globalToken: the (ring rank, local index) owning global token
/// `g`.
inline std::pair<int64_t, int64_t> tokenOwner(Balance b, int64_t L, int64_t P,
                                              int64_t g) {
  int64_t Ll = L / P;
  switch (b) {
  case Balance::None:
    return {g / Ll, g % Ll};
  case Balance::Zigzag: {
    int64_t C = L / (2 * P);
    int64_t chunk = g / C, off = g % C;
    if (chunk < P)
      return {chunk, off};
    return {2 * P - 1 - chunk, C + off};
  }
  case Balance::Striped:
    return {g % P, g / P};
  }
  return {-1, -1};
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
