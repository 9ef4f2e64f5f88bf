//===- Documents.cpp - packed documents of a varlen run ---------*- C++ -*-===//
//
// This file implements the document boundaries, the entry call and the
// balance report of Documents.h.
//
//===----------------------------------------------------------------------===//

#include "Documents.h"
#include "HostData.h"
#include "Npy.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdio>

using namespace ringrun;

namespace {

/// Parses "a,b,c" into non-negative integers that fit int32; "" or why not.
std::string parseList(const std::string &name, const std::string &text,
                      std::vector<int64_t> &out) {
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(text).split(items, ',');
  for (llvm::StringRef item : items) {
    long long v = 0;
    if (item.trim().getAsInteger(10, v) || v < 0 || v > INT32_MAX)
      return "--" + name + ": expected comma-separated integers in [0, " +
             std::to_string(INT32_MAX) + "], got '" + item.str() + "' in '" +
             text + "'";
    out.push_back(v);
  }
  return "";
}

} // namespace

std::string ringrun::setDocuments(AttentionSpec &s, const std::string &seqlens,
                                  const std::string &rawCu, uint64_t seed) {
  s.cuSeqlens.clear();
  if (!s.hasDocuments())
    return seqlens.empty() && rawCu.empty()
               ? ""
               : std::string(seqlens.empty() ? "--cu-seqlens" : "--seqlens") +
                     " needs a varlen artifact (ringc spec key max_docs); "
                     "this one packs no documents";
  const int64_t N = s.maxDocs, L = s.seq;
  if (!seqlens.empty() && !rawCu.empty())
    return "give one of --seqlens and --cu-seqlens";
  std::vector<int64_t> values;
  if (!rawCu.empty()) {
    if (std::string err = parseList("cu-seqlens", rawCu, values); !err.empty())
      return err;
    if (static_cast<int64_t>(values.size()) != N + 1)
      return "--cu-seqlens: the artifact takes max_docs + 1 = " +
             std::to_string(N + 1) + " boundaries, got " +
             std::to_string(values.size());
    for (int64_t v : values)
      s.cuSeqlens.push_back(static_cast<int32_t>(v));
    return "";
  }
  if (!seqlens.empty()) {
    if (std::string err = parseList("seqlens", seqlens, values); !err.empty())
      return err;
    if (static_cast<int64_t>(values.size()) > N)
      return "--seqlens: " + std::to_string(values.size()) +
             " documents, but the artifact packs at most max_docs = " +
             std::to_string(N);
    int64_t sum = 0;
    for (int64_t v : values)
      sum += v;
    if (sum != L)
      return "--seqlens: the document lengths sum to " + std::to_string(sum) +
             ", but the sequence has " + std::to_string(L) +
             " tokens; they must add up to it exactly";
  } else {
    // 1..N documents at uniform cut points of [0, L].
    uint64_t state = seed ^ 0x5EC1E45D0C5ULL;
    int64_t docs = 1 + static_cast<int64_t>(splitmix64(state) %
                                            static_cast<uint64_t>(N));
    std::vector<int64_t> cuts;
    for (int64_t d = 1; d < docs; ++d)
      cuts.push_back(static_cast<int64_t>(splitmix64(state) %
                                          static_cast<uint64_t>(L + 1)));
    std::sort(cuts.begin(), cuts.end());
    int64_t prev = 0;
    for (int64_t c : cuts) {
      values.push_back(c - prev);
      prev = c;
    }
    values.push_back(L - prev);
  }
  s.cuSeqlens.push_back(0);
  for (int64_t v : values)
    s.cuSeqlens.push_back(s.cuSeqlens.back() + static_cast<int32_t>(v));
  while (static_cast<int64_t>(s.cuSeqlens.size()) < N + 1)
    s.cuSeqlens.push_back(static_cast<int32_t>(L));
  return "";
}

std::string ringrun::describeDocuments(const AttentionSpec &s) {
  std::string lengths, cu;
  int64_t docs = 0;
  for (size_t d = 0; d < s.cuSeqlens.size(); ++d) {
    cu += (d ? "," : "") + std::to_string(s.cuSeqlens[d]);
    if (d + 1 < s.cuSeqlens.size()) {
      int64_t len = int64_t(s.cuSeqlens[d + 1]) - s.cuSeqlens[d];
      lengths += (d ? "," : "") + std::to_string(len);
      docs += len > 0;
    }
  }
  return std::to_string(docs) + " non-empty documents of " +
         std::to_string(s.maxDocs) + ": lengths " + lengths +
         " (cu_seqlens " + cu + ")";
}

std::vector<double> ringrun::rankVisiblePairs(const AttentionSpec &s) {
  using namespace ringrt::layout;
  std::vector<double> pairs(static_cast<size_t>(s.ring), 0.0);
  int64_t rows = localRows(s.balance, s.seq, s.ring);
  for (int64_t p = 0; p < s.ring; ++p)
    for (int64_t i = 0; i < rows; ++i) {
      int64_t g = globalToken(s.balance, s.seq, s.ring, p, i);
      if (g < 0)
        continue;
      auto [j0, j1] = s.visibleKeys(g);
      pairs[static_cast<size_t>(p)] += static_cast<double>(j1 - j0);
    }
  return pairs;
}

std::string ringrun::balanceReport(const AttentionSpec &s) {
  std::vector<double> pairs = rankVisiblePairs(s);
  double total = 0, most = 0;
  for (double x : pairs) {
    total += x;
    most = std::max(most, x);
  }
  std::string out;
  char line[256];
  for (size_t p = 0; p < pairs.size(); ++p) {
    std::snprintf(line, sizeof(line),
                  "ring-run: BALANCE ring_rank=%zu visible_pairs=%.0f "
                  "share=%.1f%%\n",
                  p, pairs[p], total > 0 ? 100.0 * pairs[p] / total : 0.0);
    out += line;
  }
  double mean = total / static_cast<double>(pairs.size());
  std::snprintf(line, sizeof(line),
                "ring-run: BALANCE max_over_mean=%.3f (1 = even; per batch "
                "and head, %s)\n",
                mean > 0 ? most / mean : 1.0,
                ringrt::layout::balanceName(s.balance));
  return out + line;
}

int32_t ringrun::callForwardEntry(ringrt_attention_entry entry,
                                  const AttentionSpec &s, ringrt_context *ctx,
                                  const ringrt_tensor *q,
                                  const ringrt_tensor *k,
                                  const ringrt_tensor *v, ringrt_tensor *o,
                                  ringrt_tensor *lse) {
  if (!s.hasDocuments())
    return entry(ctx, q, k, v, o, lse, /*workspace: the context's*/ nullptr,
                 /*stream: the context's*/ nullptr);
  auto varlen = entryAs<VarlenEntry>(entry);
  return varlen(ctx, q, k, v, o, lse, s.cuSeqlens.data(), nullptr, nullptr);
}

bool ringrun::writeDocumentsNpy(const std::string &dir, const AttentionSpec &s,
                                std::string &error) {
  if (s.cuSeqlens.empty())
    return true;
  std::vector<int64_t> cu(s.cuSeqlens.begin(), s.cuSeqlens.end());
  return writeNpyI64(dir + "/cu_seqlens.npy", cu.data(),
                     {static_cast<int64_t>(cu.size())}, error);
}
