// RUN: ring-opt %s -split-input-file -verify-diagnostics
// Bad sliding windows: each side is a token count >= 0 or -1 (unlimited),
// and a window unlimited on both sides is no window.

func.func @below_minus_one(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{window left = -2 is invalid: a side of the window is a token count >= 0, or -1 for unlimited}}
  %o, %lse = ring.attention %q, %k, %v window<left = -2, right = 0> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @right_below(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{window right = -7 is invalid}}
  %o, %lse = ring.attention %q, %k, %v mask<causal> window<left = 4, right = -7> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @unlimited(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{a window with left = -1 and right = -1 is unlimited on both sides, which is no window; omit it}}
  %o, %lse = ring.attention %q, %k, %v window<left = -1, right = -1> : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

// The plan carries the same check.
// expected-error @+2 {{window left = -3 is invalid}}
// expected-error @+1 {{failed to parse Ring_PlanAttr parameter 'window'}}
func.func @plan() attributes {ring.plan = #ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, window = #ring.window<left = -3, right = 1>>} {
  return
}
