

func.func @window(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{window left = -2 is invalid: a side of the window is a token count >= 0, or -1 for unlimited}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 window<left = -2, right = 3> : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

