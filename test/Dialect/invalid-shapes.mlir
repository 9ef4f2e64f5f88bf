// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @kv_mismatch(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>) {
  // expected-error @+1 {{key and value must have the same shape, got key 1x2x32x16 and value 1x2x32x8}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @batch(%q: tensor<2x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{batch of query (2) and key/value (1) differ}}
  %o, %lse = ring.attention %q, %k, %v : tensor<2x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<2x2x32x16xf32>, tensor<2x2x32xf32>
  return
}

// -----

func.func @seq(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) {
  // expected-error @+1 {{sequence length of query (32) and key/value (64) differ; ring attention is self-attention over one sequence}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @head_dim(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) {
  // expected-error @+1 {{head_dim of query (16) and key/value (8) differ}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @output(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{output shape 1x2x16x16 must equal the query shape 1x2x32x16}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x16x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @lse(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{lse shape 1x2x16 must be [batch, query heads, sequence] = 1x2x32}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @rank3(%q: tensor<2x32x16xf32>, %k: tensor<2x32x16xf32>, %v: tensor<2x32x16xf32>) {
  // expected-error @+1 {{operand #0 must be 4D tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<2x32x16xf32>'}}
  %o, %lse = ring.attention %q, %k, %v : tensor<2x32x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<2x32x16xf32>, tensor<2x32xf32>
  return
}

// -----

func.func @dynamic(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) {
  // expected-error @+1 {{query has a dynamic shape (1x2x?x16); ringc compiles static [B, H, L, D] shapes only}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x2x?x16xf32>, tensor<1x2x?xf32>
  return
}
