// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @wq_rows(%x: tensor<1x64x32xf32>, %wq: tensor<16x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{wq, wk and wv must have d_model = 32 rows (x is [1, 64, 32]), got [16, 64], [32, 32], [32, 32]}}
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<16x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return
}

