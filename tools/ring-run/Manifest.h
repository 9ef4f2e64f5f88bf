//===- Manifest.h - ringc artifact manifests --------------------*- C++ -*-===//
//
// This file declares the attention spec and the manifest.json of a ringc
// artifact ("ringc-artifact-1"), the reader used by ring-run, the writer
// used by test artifacts, and the derivation of per-rank (local) shapes
// that both sides must agree on.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_MANIFEST_H
#define RINGRUN_MANIFEST_H

#include "ringrt/Layout.h"
#include "ringrt/ringrt.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringrun {

/// The attention computed by an artifact (DESIGN.md section 1).
struct AttentionSpec {
  int64_t batch = 1, heads = 1, kvHeads = 1, seq = 1, headDim = 1;
  int64_t ring = 1, headGroups = 1, dimSlices = 1;
  /// The all-to-all (Ulysses) degree U: rank (p, u) holds share u of ring
  /// rank p's local rows (near-equal shares, ringrt/Layout.h
  /// a2aShareRows), with every head of its head group.
  int64_t a2a = 1;
  bool causal = false;
  /// Sliding window sides in tokens (-1 = unlimited): key j is visible to
  /// query i only if i - j <= windowLeft and j - i <= windowRight.
  int64_t windowLeft = -1, windowRight = -1;
  ringrt::layout::Balance balance = ringrt::layout::Balance::None;
  int32_t dtype = RINGRT_BF16;
  double scale = 1.0;
  /// The whole layer (manifest spec.d_model, spec.bias): 0 = attention only.
  int64_t dModel = 0;
  bool bias = false;
  /// The layer's Y is reduce-scattered (spec.layer_output): each head-group
  /// x dim-slice rank holds a share of its ring rank's rows.
  bool scatterOutput = false;
  /// Packed documents (manifest spec.max_docs; 0: one sequence). The run's
  /// boundaries, cuSeqlens (max_docs + 1 global positions), are not part
  /// of the artifact: ring-run sets them (--seqlens, or a seeded split).
  int64_t maxDocs = 0;
  std::vector<int32_t> cuSeqlens;

  bool isLayer() const { return dModel > 0; }
  /// The ranks that reduce one ring coordinate's Y, and the share of the
  /// rank with head group g and dim slice s (dim slice major).
  int64_t outputGroup() const { return headGroups * dimSlices; }
  int64_t outputShare(int64_t g, int64_t s) const { return s * headGroups + g; }
  /// Rows of the layer's Y buffer and, for share j, its first local row and
  /// its rows (the whole local rows without a reduce-scatter;
  /// ringrt/Layout.h partStart/partTokens).
  int64_t yRows() const { return yShareRows(0); }
  int64_t yShareFirst(int64_t j) const {
    return scatterOutput ? ringrt::layout::partStart(rankSeq(), outputGroup(), j)
                         : 0;
  }
  int64_t yShareRows(int64_t j) const {
    return scatterOutput
               ? ringrt::layout::partTokens(rankSeq(), outputGroup(), j)
               : rankSeq();
  }
  /// Number of ranks: ring * head_groups * dim_slices * a2a.
  int64_t ranks() const { return ring * headGroups * dimSlices * a2a; }
  /// Local rows per rank of the entry's tensors: the padded part rows
  /// (ringrt/Layout.h localRows), or ceil(that / a2a) with an a2a axis.
  int64_t rankSeq() const {
    return ringrt::layout::a2aRows(
        ringrt::layout::localRows(balance, seq, ring), a2a);
  }
  bool hasWindow() const { return windowLeft != -1 || windowRight != -1; }
  /// The keys query token i sees: [first, end) in global token order (the
  /// causal mask and the window both cut a contiguous range).
  /// With packed documents the range is also cut to i's document (the
  /// document mask keeps it contiguous).
  std::pair<int64_t, int64_t> visibleKeys(int64_t i) const {
    int64_t first = windowLeft >= 0 && i - windowLeft > 0 ? i - windowLeft : 0;
    int64_t end = causal ? i + 1 : seq;
    if (windowRight >= 0 && i + windowRight + 1 < end)
      end = i + windowRight + 1;
    if (!cuSeqlens.empty()) {
      auto [docFirst, docEnd] = document(i);
      first = std::max(first, docFirst);
      end = std::max(first, std::min(end, docEnd));
    }
    return {first, end};
  }
  bool hasDocuments() const { return maxDocs > 0; }
  /// The document [begin, end) that holds token i (cuSeqlens must be set
  /// and valid: cu[0] = 0, non-decreasing, cu[max_docs] = seq).
  std::pair<int64_t, int64_t> document(int64_t i) const {
    // The last boundary <= i starts i's document (empty ones before it
    // share that boundary), the next one ends it.
    auto it = std::upper_bound(cuSeqlens.begin(), cuSeqlens.end(),
                               static_cast<int32_t>(i));
    return {*(it - 1), *it};
  }
  /// Score pairs per (batch, head) for FLOP counts: L² unmasked, L²/2
  /// causal, and with a window the exact count of visible pairs.
  double scorePairs() const {
    double L = static_cast<double>(seq);
    if (!hasWindow() && cuSeqlens.empty())
      return causal ? L * L / 2 : L * L;
    double pairs = 0;
    for (int64_t i = 0; i < seq; ++i) {
      auto [first, end] = visibleKeys(i);
      pairs += static_cast<double>(end - first);
    }
    return pairs;
  }
  /// "" if the spec is consistent (divisibility etc.), else why not.
  std::string validate() const;
};

/// Per-rank shapes of the entry's tensors.
struct LocalShapes {
  int64_t q[4], k[4], v[4], o[4], lse[3];
};

/// The local shapes `spec` implies on every rank.
LocalShapes deriveLocalShapes(const AttentionSpec &spec);

/// A parsed manifest.json.
struct Manifest {
  std::string format, name, entry, library, target;
  /// NAME_attention_backward for grad artifacts, else empty (optional key).
  std::string backwardEntry;
  AttentionSpec spec;
  int gridRank = 3;
  int64_t gridShape[4] = {1, 1, 1, 1};
  int32_t axisOfRole[3] = {-1, -1, -1}; ///< ring, head_group, dim_slice
  int32_t a2aAxis = -1;                 ///< grid.a2a_axis (optional)
  LocalShapes local{};
  uint64_t planHash = 0;
};

/// Parses and validates manifest text; errors name the missing or
/// ill-typed key ("spec.heads: missing"). The local shapes and the grid must
/// agree with the spec.
bool parseManifest(const std::string &text, Manifest &out, std::string &error);

/// Reads and parses DIR/manifest.json; errors start with the path.
bool loadManifest(const std::string &path, Manifest &out, std::string &error);

/// Serializes `m` as manifest.json text.
std::string writeManifest(const Manifest &m);

/// Parses "K=V,K=V" spec keys (ringc --spec syntax and defaults: kv_heads =
/// heads, head_groups = dim_slices = 1, causal = 0, dtype = bf16, balance =
/// zigzag when causal else none, scale = 1/sqrt(head_dim)).
bool parseSpecKeyValues(const std::string &text, AttentionSpec &out,
                        std::string &error);

/// Parses "f32", "bf16" or "f16".
bool parseDType(const std::string &s, int32_t &out);

} // namespace ringrun

#endif // RINGRUN_MANIFEST_H
