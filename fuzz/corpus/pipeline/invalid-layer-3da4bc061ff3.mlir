

func.func @kv_columns(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x48xf32>, %wv: tensor<32x48xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{wk and wv must have the same number of columns, Hkv blocks of head_dim = 16 with Hkv dividing heads = 4; got [32, 48] and [32, 48]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x48xf32>, tensor<32x48xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

