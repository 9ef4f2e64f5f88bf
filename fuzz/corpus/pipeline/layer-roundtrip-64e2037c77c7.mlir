

// A sliding window and packed documents, as on ring.attention.
// CHECK-LABEL: func.func @layer_window_docs
// CHECK: ring.attention_layer {{.*}} heads = 4 mask<causal> window<left = 16, right = -1> max_docs(8) output<reduce_scatter> :
func.func @layer_window_docs(%x: tensor<1x64x32xbf16>, %wq: tensor<32x64xbf16>, %wk: tensor<32x32xbf16>, %wv: tensor<32x32xbf16>, %wo: tensor<64x32xbf16>) -> (tensor<1x64x32xbf16>, tensor<1x4x64xf32>) {
  %y, %lse = ring.attention_layer %x, %wq, %wk, %wv, %wo heads = 4 mask<causal> window<left = 16, right = -1> max_docs(8) output<reduce_scatter> : tensor<1x64x32xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<64x32xbf16> -> tensor<1x64x32xbf16>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xbf16>, tensor<1x4x64xf32>
}

