// A single-device spec: no grid, every coordinate 0.
func.func @single(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x32xf32>)
    -> (tensor<2x4x64x32xf32>, tensor<2x4x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
  return %o, %lse : tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
}
