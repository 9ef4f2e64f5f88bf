// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @gqa(%q: tensor<1x8x32x16xf32>, %k: tensor<1x3x32x16xf32>, %v: tensor<1x3x32x16xf32>) {
  // expected-error @+1 {{query heads (8) must be a multiple of key/value heads (3) for GQA/MQA; valid key/value head counts for 8 query heads: 1, 2, 4, 8}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x8x32x16xf32>, tensor<1x3x32x16xf32>, tensor<1x3x32x16xf32> -> tensor<1x8x32x16xf32>, tensor<1x8x32xf32>
  return
}

// -----

func.func @more_kv_than_q(%q: tensor<1x2x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x16xf32>) {
  // expected-error @+1 {{query heads (2) must be a multiple of key/value heads (4) for GQA/MQA; valid key/value head counts for 2 query heads: 1, 2}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}
