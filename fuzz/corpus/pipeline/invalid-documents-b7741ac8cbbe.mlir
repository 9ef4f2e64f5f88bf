// RUN: ring-opt %s -split-input-file -verify-diagnostics
// Bad packed-document (varlen) specs and per-rank ops: max_docs is at
// least 1, and the per-rank ops carry the document boundaries (max_docs + 1 int32) exactly when the
// plan packs documents.

func.func @zero(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{max_docs = 0 is invalid: it is the most documents a call's cu_seqlens may pack, 1 <= max_docs <= 16777216 (unused documents are empty)}}
  %o, %lse = ring.attention %q, %k, %v max_docs(0) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

