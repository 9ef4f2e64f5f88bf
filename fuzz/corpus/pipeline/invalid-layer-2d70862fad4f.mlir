

func.func @lse_shape(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{lse must be [B, heads, L] = [1, 4, 64], got [1, 2, 64]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x2x64xf32>
  return
}

