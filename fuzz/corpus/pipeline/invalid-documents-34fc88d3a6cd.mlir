

// The plan carries the same check.
// expected-error @+1 {{invalid #ring.plan: max_docs = -1 is invalid}}
func.func @plan_zero() attributes {ring.plan = #ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = -1>} {
  return
}

