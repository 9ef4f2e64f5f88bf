

func.func @unlimited(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{a window with left = -1 and right = -1 is unlimited on both sides, which is no window; omit it}}
  %o, %lse = ring.attention %q, %k, %v window<left = -1, right = -1> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

