//===- Documents.cpp - the boundaries of packed documents -------*- C++ -*-===//
//
// This file implements ringrt_check_cu_seqlens: a varlen artifact (spec
// key max_docs) packs documents into one sequence, and their boundaries
// (cu_seqlens, a runtime input that changes every batch) decide which keys
// a query sees. A bad array would silently mix documents or read past the
// sequence in the kernels' document lookup, so every entry refuses it
// first, naming the first bad index.
//
//===----------------------------------------------------------------------===//

#include "Error.h"
#include "ringrt/codegen_abi.h"

using namespace ringrt;

extern "C" {

ringrt_status ringrt_check_cu_seqlens(const int32_t *cu, int64_t maxDocs,
                                      int64_t seq) {
  if (!cu)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "cu_seqlens is NULL; a varlen entry needs max_docs + 1 "
                    "document boundaries");
  if (maxDocs < 1 || seq < 1)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "cu_seqlens check: max_docs %lld and seq %lld must be "
                     "positive",
                     static_cast<long long>(maxDocs),
                     static_cast<long long>(seq));
  if (cu[0] != 0)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "cu_seqlens[0] = %d, but the first document starts at "
                     "token 0 (cu_seqlens[0] = 0)",
                     static_cast<int>(cu[0]));
  for (int64_t d = 0; d < maxDocs; ++d)
    if (cu[d + 1] < cu[d])
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "cu_seqlens is not non-decreasing: cu_seqlens[%lld] = "
                       "%d < cu_seqlens[%lld] = %d (document %lld would have "
                       "a negative length)",
                       static_cast<long long>(d + 1),
                       static_cast<int>(cu[d + 1]), static_cast<long long>(d),
                       static_cast<int>(cu[d]), static_cast<long long>(d));
  if (cu[maxDocs] != seq)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "cu_seqlens[%lld] = %d, but the last boundary must be "
                     "the sequence length %lld (unused trailing documents "
                     "repeat it)",
                     static_cast<long long>(maxDocs),
                     static_cast<int>(cu[maxDocs]),
                     static_cast<long long>(seq));
  return RINGRT_OK;
}

int32_t ringrt_cg_check_cu_seqlens(const ringrt_context *, const int32_t *cu,
                                   int64_t maxDocs, int64_t seq) {
  return ringrt_check_cu_seqlens(cu, maxDocs, seq);
}

} // extern "C"
