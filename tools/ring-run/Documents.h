//===- Documents.h - packed documents of a varlen run -----------*- C++ -*-===//
//
// This file declares what ring-run does for a varlen artifact (spec key
// max_docs): the document boundaries of a run (--seqlens, the raw test hook
// --cu-seqlens, or a split drawn from the seed), the entry call that passes
// them, and the per-rank balance report for given documents.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_DOCUMENTS_H
#define RINGRUN_DOCUMENTS_H

#include "Manifest.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ringrun {

/// Sets s.cuSeqlens for a run of a varlen artifact (s.maxDocs > 0):
/// - `seqlens` non-empty: document lengths "a,b,c" (each >= 0, at most
///   max_docs of them, summing to the sequence length; trailing unused
///   documents are empty);
/// - else `rawCu` non-empty: max_docs + 1 boundaries passed as given, not
///   checked here (a test hook: the entry must refuse a bad array);
/// - else a split drawn from `seed`: 1..max_docs documents at uniform cut
///   points (empty documents possible).
/// Returns "" or the diagnostic. Either option on an artifact without
/// max_docs is an error too.
std::string setDocuments(AttentionSpec &s, const std::string &seqlens,
                         const std::string &rawCu, uint64_t seed);

/// "3 documents: 100,28,0 (cu_seqlens 0,100,128,128)".
std::string describeDocuments(const AttentionSpec &s);

/// Visible (query, key) pairs per (batch, head) of each ring rank's queries
/// under the masks and the documents of `s` (with s.cuSeqlens set).
std::vector<double> rankVisiblePairs(const AttentionSpec &s);

/// ring-run's BALANCE lines: each ring rank's visible pairs and share, and
/// max/mean (1 is perfect balance).
std::string balanceReport(const AttentionSpec &s);

/// Entry of a varlen artifact: the tensor entry plus cu_seqlens.
typedef int32_t (*VarlenEntry)(ringrt_context *, const ringrt_tensor *,
                               const ringrt_tensor *, const ringrt_tensor *,
                               ringrt_tensor *, ringrt_tensor *,
                               const int32_t *, void *, void *);

/// Entry `f` called in another of its forms (the varlen one adds
/// cu_seqlens before the workspace): the cast goes through void (*)(),
/// which -Wcast-function-type exempts, to say that the change of signature
/// is deliberate.
template <typename To, typename From> To entryAs(From f) {
  return reinterpret_cast<To>(reinterpret_cast<void (*)()>(f));
}

/// Calls the forward entry `entry` of an artifact of `s`: with documents,
/// as a VarlenEntry with s.cuSeqlens.
int32_t callForwardEntry(ringrt_attention_entry entry, const AttentionSpec &s,
                         ringrt_context *ctx, const ringrt_tensor *q,
                         const ringrt_tensor *k, const ringrt_tensor *v,
                         ringrt_tensor *o, ringrt_tensor *lse);

/// --dump of a varlen run: writes `dir`/cu_seqlens.npy (int64, the run's
/// max_docs + 1 boundaries); nothing without documents. Returns false with
/// `error` set on a write error.
bool writeDocumentsNpy(const std::string &dir, const AttentionSpec &s,
                       std::string &error);

} // namespace ringrun

#endif // RINGRUN_DOCUMENTS_H
