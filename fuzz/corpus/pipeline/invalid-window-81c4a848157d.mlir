// RUN: ring-opt %s -split-input-file -verify-diagnostics
// Bad sliding windows: each side is a token count >= 0 or -1 (unlimited),
// and a window unlimited on both sides is no window.

func.func @below_minus_one(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{window left = -2 is invalid: a side of the window is a token count >= 0, or -1 for unlimited}}
  %o, %lse = ring.attention %q, %k, %v window<left = -2, right = 0> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

