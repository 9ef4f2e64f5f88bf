// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @wq_rows(%x: tensor<1x64x32xf32>, %wq: tensor<16x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{wq, wk and wv must have d_model = 32 rows (x is [1, 64, 32]), got [16, 64], [32, 32], [32, 32]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<16x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @heads_do_not_divide(%x: tensor<1x64x32xf32>, %wq: tensor<32x60xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<60x32xf32>) {
  // expected-error @+1 {{wq has 60 columns, not a multiple of heads = 8 (its columns are heads blocks of head_dim)}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 8 : tensor<1x64x32xf32>, tensor<32x60xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<60x32xf32> -> tensor<1x64x32xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @kv_columns(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x48xf32>, %wv: tensor<32x48xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{wk and wv must have the same number of columns, Hkv blocks of head_dim = 16 with Hkv dividing heads = 4; got [32, 48] and [32, 48]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x48xf32>, tensor<32x48xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @wo_shape(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x64xf32>) {
  // expected-error @+1 {{wo must be [heads*head_dim, d_model] = [64, 32], got [32, 64]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x64xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @lse_shape(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{lse must be [B, heads, L] = [1, 4, 64], got [1, 2, 64]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x2x64xf32>
  return
}

// -----

func.func @bias_shape(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %b: tensor<64xf32>, %bo: tensor<32xf32>) {
  // expected-error @+1 {{bk must be 'tensor<32xf32>', got 'tensor<64xf32>'}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo bias(%b, %b, %b, %bo : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<32xf32>) heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @bias_count(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{bias takes four vectors (bq, bk, bv, bo), got 1}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo bias(%b : tensor<64xf32>) heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @grad(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{grad is not supported for the whole layer yet: the backward pass through the projections is not built; compile the attention alone (ring.attention ... grad) for gradients}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 grad : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @project_shapes(%x: memref<1x16x32xf32>, %w: memref<32x48xf32>, %q: memref<1x4x16x16xf32>) {
  // expected-error @+1 {{input [1, 16, 32], weight [32, 48] and output [1, 4, 16, 16] do not agree: weight must be [d_model, H*D] = [32, 64]}}
  ring.project ins(%x, %w : memref<1x16x32xf32>, memref<32x48xf32>) outs(%q : memref<1x4x16x16xf32>)
  return
}

// -----

func.func @out_project_shapes(%o: memref<1x4x16x16xf32>, %wo: memref<64x32xf32>, %yp: memref<1x8x32xf32>) {
  // expected-error @+1 {{input [1, 4, 16, 16], weight [64, 32] and partial [1, 8, 32] do not agree: weight must be [H*D, d_model] = [64, 32] and partial [B, L, d_model]}}
  ring.out_project ins(%o, %wo : memref<1x4x16x16xf32>, memref<64x32xf32>) outs(%yp : memref<1x8x32xf32>)
  return
}

// -----

func.func @reduce_bias(%yp: memref<1x16x32xf32>, %bo: memref<16xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{bias must be [32], got [16]}}
  ring.output_all_reduce ins(%yp, %bo : memref<1x16x32xf32>, memref<16xf32>) outs(%y : memref<1x16x32xf32>)
  return
}

// -----

func.func @scatter_uncovered(%yp: memref<1x16x32xf32>, %y: memref<1x8x32xf32>) {
  // expected-error @+1 {{shares [8, 7] cover 15 rows but partial has 16; each of its rows must be owned by exactly one rank, so the shares must sum to 16}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x8x32xf32>) shares = [8, 7]
  return
}

// -----

func.func @scatter_rows(%yp: memref<1x16x32xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{output has 16 rows; it holds the largest share, 8 rows (shares [8, 8])}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x16x32xf32>) shares = [8, 8]
  return
}

// -----

func.func @scatter_negative(%yp: memref<1x16x32xf32>, %y: memref<1x16x32xf32>) {
  // expected-error @+1 {{share 1 has -2 rows; each must be in [0, 16]}}
  ring.output_reduce_scatter ins(%yp : memref<1x16x32xf32>) outs(%y : memref<1x16x32xf32>) shares = [16, -2, 2]
  return
}

// -----

// The layer takes ring.attention's max_docs and window with their checks.
func.func @max_docs(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{max_docs = 0 is invalid: it is the most documents a call's cu_seqlens may pack}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 max_docs(0) : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @window(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{window left = -2 is invalid: a side of the window is a token count >= 0, or -1 for unlimited}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 window<left = -2, right = 3> : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

// -----

func.func @scatter_shapes(%yp: memref<2x16x32xf32>, %y: memref<1x8x32xf32>) {
  // expected-error @+1 {{partial [2, 16, 32] and output [1, 8, 32] must be [B, L, d_model] and [B, rows, d_model] with the same B and d_model}}
  ring.output_reduce_scatter ins(%yp : memref<2x16x32xf32>) outs(%y : memref<1x8x32xf32>) shares = [8, 8]
  return
}
