

// The layer takes ring.attention's max_docs and window with their checks.
func.func @max_docs(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{max_docs = 0 is invalid: it is the most documents a call's cu_seqlens may pack}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 max_docs(0) : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

