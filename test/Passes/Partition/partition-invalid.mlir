// RUN: ring-opt %s -split-input-file -ring-partition -verify-diagnostics

func.func @extra_use(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) {
  // expected-error @+1 {{ring-partition needs the function to return exactly the attention's (output, lse); @extra_use returns something else}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return %q, %lse : tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
}

// -----

func.func @two(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) {
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  // expected-error @+1 {{ring-partition handles one ring.attention or ring.attention_layer per function; @two has 2}}
  %o2, %lse2 = ring.attention %q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return %o2, %lse : tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
}
