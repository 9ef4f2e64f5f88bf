

func.func @heads_do_not_divide(%x: tensor<1x64x32xf32>, %wq: tensor<32x60xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<60x32xf32>) {
  // expected-error @+1 {{wq has 60 columns, not a multiple of heads = 8 (its columns are heads blocks of head_dim)}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 8 : tensor<1x64x32xf32>, tensor<32x60xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<60x32xf32> -> tensor<1x64x32xf32>, tensor<1x8x64xf32>
  return
}

