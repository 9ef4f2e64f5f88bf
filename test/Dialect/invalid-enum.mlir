// RUN: ring-opt %s -split-input-file -verify-diagnostics

func.func @bad_mask(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+2 {{expected ::mlir::ring::MaskKind to be one of: none, causal}}
  // expected-error @+1 {{failed to parse Ring_MaskAttr parameter 'value'}}
  %o, %lse = ring.attention %q, %k, %v mask<sliding> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @bad_balance(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+2 {{expected ::mlir::ring::Balance to be one of: none, zigzag, striped}}
  // expected-error @+1 {{failed to parse Ring_BalanceAttr parameter 'value'}}
  %o, %lse = ring.attention %q, %k, %v balance<spiral> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}
