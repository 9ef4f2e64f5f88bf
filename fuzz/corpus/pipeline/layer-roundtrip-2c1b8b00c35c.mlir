

// CHECK-LABEL: func.func @layer_bias
// CHECK: ring.attention_layer {{.*}} bias(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 scale(2.500000e-01)
func.func @layer_bias(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %bq: tensor<64xf32>, %bk: tensor<32xf32>, %bv: tensor<32xf32>, %bo: tensor<32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo bias(%bq, %bk, %bv, %bo : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 scale(0.25) : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}

