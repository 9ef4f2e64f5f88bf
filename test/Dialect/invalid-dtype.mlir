// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @f64(%q: tensor<1x2x32x16xf64>, %k: tensor<1x2x32x16xf64>, %v: tensor<1x2x32x16xf64>) {
  // expected-error @+1 {{operand #0 must be 4D tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<1x2x32x16xf64>'}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xf64>, tensor<1x2x32x16xf64>, tensor<1x2x32x16xf64> -> tensor<1x2x32x16xf64>, tensor<1x2x32xf32>
  return
}

// -----

func.func @int8(%q: tensor<1x2x32x16xi8>, %k: tensor<1x2x32x16xi8>, %v: tensor<1x2x32x16xi8>) {
  // expected-error @+1 {{operand #0 must be 4D tensor of bfloat16 type or 16-bit float or 32-bit float values, but got 'tensor<1x2x32x16xi8>'}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xi8>, tensor<1x2x32x16xi8>, tensor<1x2x32x16xi8> -> tensor<1x2x32x16xi8>, tensor<1x2x32xf32>
  return
}

// -----

func.func @lse_bf16(%q: tensor<1x2x32x16xbf16>, %k: tensor<1x2x32x16xbf16>, %v: tensor<1x2x32x16xbf16>) {
  // expected-error @+1 {{result #1 must be 3D tensor of 32-bit float values, but got 'tensor<1x2x32xbf16>'}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x2x32x16xbf16>, tensor<1x2x32x16xbf16>, tensor<1x2x32x16xbf16> -> tensor<1x2x32x16xbf16>, tensor<1x2x32xbf16>
  return
}
