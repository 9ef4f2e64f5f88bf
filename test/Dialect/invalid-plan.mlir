// RUN: ring-opt %s -split-input-file -verify-diagnostics
// The #ring.plan verifier: every plan a pass reads has positive sizes, axes
// in range, divisible head splits, 64-bit-safe sizes, a supported dtype and a
// scale within fp32, and respects the documented limits. Each case below
// used to reach a pass (division by zero, overflow, out-of-range index).

// A zero-size grid axis would divide by zero.
// expected-error @+1 {{invalid #ring.plan: grid axis 0 has size 0; every grid axis needs size >= 1}}
func.func private @f0() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [0], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A negative grid axis.
// expected-error @+1 {{invalid #ring.plan: grid axis 0 has size -3; every grid axis needs size >= 1}}
func.func private @f1() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [-3], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// More ranks than the documented limit.
// expected-error @+1 {{invalid #ring.plan: the grid of shape 2048 has 2048 ranks; ringc supports at most 1024}}
func.func private @f2() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2048], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A grid whose rank count overflows 64 bits.
// expected-error @+1 {{the grid of shape 4294967296x4294967296 has more than 2^63 ranks}}
func.func private @f3() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [4294967296, 4294967296], ring_axis = 0, head_group_axis = 1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A role axis outside the grid.
// expected-error @+1 {{invalid #ring.plan: the ring axis is 3 but the grid has 1 axes; valid: -1 (no axis) or 0..0}}
func.func private @f4() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 3, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// Two roles on one axis.
// expected-error @+1 {{invalid #ring.plan: grid axis 0 plays two roles (ring and head_groups); each role needs its own axis}}
func.func private @f5() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = 0, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A zero sequence.
// expected-error @+1 {{invalid #ring.plan: seq is 0; it must be at least 1}}
func.func private @f6() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 0, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// Zero kv heads would divide by zero.
// expected-error @+1 {{invalid #ring.plan: kv_heads is 0; it must be at least 1}}
func.func private @f7() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 0, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// Query heads that are not a multiple of kv heads.
// expected-error @+1 {{invalid #ring.plan: query heads (3) must be a multiple of key/value heads (2)}}
func.func private @f8() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 3, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// Sizes whose fp32 bytes overflow 64 bits.
// expected-error @+1 {{is too large: its size in fp32 overflows 64-bit byte offsets}}
func.func private @f9() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 4611686018427387904, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A scale beyond fp32.
// expected-error @+1 {{invalid #ring.plan: scale 1e+39 is outside [1.17549e-38, 2.35866e+38]}}
func.func private @f12() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 1.0e+39 : f64>}

// -----

// A zero scale.
// expected-error @+1 {{invalid #ring.plan: scale must be positive and finite, got 0}}
func.func private @f13() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.0 : f64>}

// -----

// An unsupported element type.
// expected-error @+1 {{invalid #ring.plan: element type 'i8' is not supported; valid: bf16, f16, f32}}
func.func private @f14() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = i8, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A grid axis of size > 1 that plays no role.
// expected-error @+1 {{grid axis 1 of @g has size 2 but no dimension is split over it}}
func.func private @f15() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2, 2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>}

// -----

// A reduce-scattered Y without a layer (d_model).
// expected-error @+1 {{invalid #ring.plan: layer_output = reduce_scatter needs a layer (d_model >= 1): it says how the layer's Y is reduced, and attention alone has no Y; drop it or give d_model}}
func.func private @f16() attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, layer_output = reduce_scatter>}
