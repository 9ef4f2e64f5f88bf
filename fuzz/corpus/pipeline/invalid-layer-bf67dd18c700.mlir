

func.func @wo_shape(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x64xf32>) {
  // expected-error @+1 {{wo must be [heads*head_dim, d_model] = [64, 32], got [32, 64]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x64xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

