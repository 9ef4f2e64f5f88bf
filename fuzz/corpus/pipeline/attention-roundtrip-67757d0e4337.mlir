func.func @plain(%q: tensor<2x8x128x64xf32>, %k: tensor<2x8x128x64xf32>, %v: tensor<2x8x128x64xf32>)
    -> (tensor<2x8x128x64xf32>, tensor<2x8x128xf32>) {
  %o, %lse = ring.attention %q, %k, %v : tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32> -> tensor<2x8x128x64xf32>, tensor<2x8x128xf32>
  return %o, %lse : tensor<2x8x128x64xf32>, tensor<2x8x128xf32>
}
