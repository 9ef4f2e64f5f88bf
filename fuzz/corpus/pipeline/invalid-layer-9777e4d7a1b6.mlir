

func.func @bias_count(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{bias takes four vectors (bq, bk, bv, bo), got 1}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo bias(%b : tensor<64xf32>) heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

