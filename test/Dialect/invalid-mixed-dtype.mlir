// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @k_f16(%q: tensor<1x2x32x16xbf16>, %k: tensor<1x2x32x16xf16>, %v: tensor<1x2x32x16xbf16>) {
  // expected-error @+1 {{failed to verify that all of {query, key, value, output} have same element type}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xbf16>, tensor<1x2x32x16xf16>, tensor<1x2x32x16xbf16> -> tensor<1x2x32x16xbf16>, tensor<1x2x32xf32>
  return
}

// -----

func.func @o_f32(%q: tensor<1x2x32x16xbf16>, %k: tensor<1x2x32x16xbf16>, %v: tensor<1x2x32x16xbf16>) {
  // expected-error @+1 {{failed to verify that all of {query, key, value, output} have same element type}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xbf16>, tensor<1x2x32x16xbf16>, tensor<1x2x32x16xbf16> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}
