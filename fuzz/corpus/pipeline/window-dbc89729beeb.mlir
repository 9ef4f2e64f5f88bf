

// CHECK-LABEL: func.func @both_sides
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} balance<striped> window<left = 3, right = 0> :
func.func @both_sides(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>)
    -> (tensor<1x2x64x16xf32>, tensor<1x2x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v balance<striped> window<left = 3, right = 0> : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
}

