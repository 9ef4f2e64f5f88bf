// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @zero(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got 0 (the default is 1/sqrt(head_dim) = 0.25)}}
  %o, %lse = ring.attention %q, %k, %v scale(0.0) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @negative(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got -0.5}}
  %o, %lse = ring.attention %q, %k, %v scale(-0.5) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @inf(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got inf}}
  %o, %lse = ring.attention %q, %k, %v scale(0x7FF0000000000000) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @nan(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got nan}}
  %o, %lse = ring.attention %q, %k, %v scale(0x7FF8000000000000) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}
