//===- HostData.h - inputs, slicing and dtype buffers -----------*- C++ -*-===//
//
// This file declares what ring-run does with host data: the seeded input
// generator (documented PRNG, values rounded to the artifact's dtype),
// typed element access for f32/bf16/f16 buffers, and the per-rank block of
// a global [B,H,L,D] or [B,H,L] tensor under the spec's layout.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_HOSTDATA_H
#define RINGRUN_HOSTDATA_H

#include "Manifest.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace ringrun {

/// splitmix64: returns the next output and advances `state`.
uint64_t splitmix64(uint64_t &state);

/// Rounds `x` to the nearest value representable in `dtype` (RNE).
float roundToDType(float x, int32_t dtype);

/// Reads element `i` of a buffer of `dtype` as float (exact).
float loadElement(const void *data, int32_t dtype, int64_t i);

/// Stores `x` (rounded to nearest even) as element `i` of `dtype`.
void storeElement(void *data, int32_t dtype, int64_t i, float x);

/// The poison ring-run fills outputs with before a run: a quiet NaN with a
/// payload that no arithmetic produces (f32 0x7fe5a5a5, bf16 0x7fe5, f16
/// 0x7e5a). A GPU's f32 arithmetic gives the canonical NaN 0x7fffffff (the
/// emulator too), so a padding element that a kernel overwrote, even with a
/// NaN, or read-modified-wrote, no longer matches the poison bit for bit.
void storePoison(void *data, int32_t dtype, int64_t i);

/// Whether `got` (an element of `dtype` read with loadElement) is still the
/// poison of storePoison, bit for bit.
bool isPoison(float got, int32_t dtype);

/// The check of an a2a padding element (past the rank's share), which
/// nothing may write: "" when `got` is still the poison of `dtype`, else
/// the failure naming output `what`, `rank` and the value with its bits.
/// Shared by the forward, grad and layer checks.
std::string a2aPaddingFailure(const char *what, int rank, float got,
                              int32_t dtype);

/// Whether two floats have the same bits (NaN payloads and signed zeros
/// included).
bool sameBits(float a, float b);

/// `x` for messages: std::to_string, with the bits of a NaN, e.g.
/// "nan (0x7fffffff)".
std::string describeFloat(float x);

/// Element `e` of global input tensor `which` (0 = q, 1 = k, 2 = v): the
/// e-th output of a splitmix64 stream seeded with
/// seed ^ ((which + 1) * 0xD1B54A32D192ED03) (computed directly: splitmix64
/// is counter based), mapped to a uniform value in [-1, 1) with 24 bits
/// ((x >> 40) * 2^-23 - 1), multiplied by `scale` (ring-run applies
/// --input-scale to q and k only) and rounded to `dtype`.
float inputElement(uint64_t seed, int which, int64_t e, int32_t dtype,
                   double scale = 1.0);

/// Global input tensor `which` of shape `shape` (row-major): element e is
/// inputElement(seed, which, e, dtype, scale).
std::vector<float> generateInput(uint64_t seed, int which,
                                 const std::vector<int64_t> &shape,
                                 int32_t dtype, double scale = 1.0);

/// A rank's place in the grid, by role.
struct RankCoords {
  int64_t ring = 0, headGroup = 0, dimSlice = 0, a2a = 0;
};

/// Whether two dim slices' LSE values for the same row agree: every slice
/// computes the row's LSE from the same all-reduced scores, so they differ
/// at most by rounding (NaN agrees with NaN so that the NaN check reports
/// it, not this one).
inline bool lseAgreesAcrossSlices(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || a == b ||
         std::fabs(a - b) <= 1e-5f * (1.0f + std::fabs(a));
}

/// Whether the rank's local row `i` (0 <= i < rankSeq()) is a2a padding:
/// past the rank's share of its ring rank's local block (ringrt/Layout.h
/// a2aShareRows). Such rows hold no token and are never written.
inline bool isA2APadding(const AttentionSpec &s, const RankCoords &c,
                         int64_t i) {
  return i >= ringrt::layout::a2aShareRows(
                  ringrt::layout::localRows(s.balance, s.seq, s.ring), s.a2a,
                  c.a2a);
}

/// The global token of the rank's local row `i` (0 <= i < rankSeq()):
/// ring-local row a2aShareStart(u) + i of ring rank `ring`, or -1 for a
/// padding row (of the ring layout, or of the a2a share).
inline int64_t rankToken(const AttentionSpec &s, const RankCoords &c,
                         int64_t i) {
  if (isA2APadding(s, c, i))
    return -1;
  int64_t S = ringrt::layout::localRows(s.balance, s.seq, s.ring);
  return ringrt::layout::globalToken(
      s.balance, s.seq, s.ring, c.ring,
      ringrt::layout::a2aShareStart(S, s.a2a, c.a2a) + i);
}

/// Calls f(localIndex, globalIndex) for every element of the rank's block of
/// a global tensor with `heads` heads: [B,H,L,D] when `withDim`, else
/// [B,H,L] (LSE). Both indices are row-major flat indices. Padding rows of
/// the layout (ringrt/Layout.h) have no global index: `pad(localIndex)` is
/// called for their elements instead, and `tail(localIndex)` for those of
/// a2a padding rows (past the rank's share).
template <typename F, typename G, typename T>
void forEachLocal(const AttentionSpec &s, int64_t heads, bool withDim,
                  const RankCoords &c, F f, G pad, T tail) {
  using namespace ringrt::layout;
  Range hr = evenBlock(heads, s.headGroups, c.headGroup);
  Range dr = withDim ? evenBlock(s.headDim, s.dimSlices, c.dimSlice)
                     : Range{0, 1};
  int64_t D = withDim ? s.headDim : 1;
  int64_t Ll = s.rankSeq();
  int64_t local = 0;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = hr.begin; h < hr.end; ++h)
      for (int64_t i = 0; i < Ll; ++i) {
        int64_t t = rankToken(s, c, i);
        bool a2aPad = isA2APadding(s, c, i);
        int64_t row = ((b * heads + h) * s.seq + t) * D;
        for (int64_t d = dr.begin; d < dr.end; ++d) {
          if (a2aPad)
            tail(local++);
          else if (t < 0)
            pad(local++);
          else
            f(local++, row + d);
        }
      }
}

/// forEachLocal with the a2a padding rows treated as other padding rows.
template <typename F, typename G>
void forEachLocal(const AttentionSpec &s, int64_t heads, bool withDim,
                  const RankCoords &c, F f, G pad) {
  forEachLocal(s, heads, withDim, c, f, pad, pad);
}

/// forEachLocal over the tokens only (padding rows skipped).
template <typename F>
void forEachLocal(const AttentionSpec &s, int64_t heads, bool withDim,
                  const RankCoords &c, F f) {
  forEachLocal(s, heads, withDim, c, f, [](int64_t) {});
}

} // namespace ringrun

#endif // RINGRUN_HOSTDATA_H
