func.func @extra_use(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) {
  // expected-error @+1 {{ring-partition needs the function to return exactly the attention's (output, lse); @extra_use returns something else}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return %q, %lse : tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
}
