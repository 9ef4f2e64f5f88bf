

// A varlen plan's per-rank function takes cu_seqlens last.
// expected-error @+1 {{a per-rank function with a ring.plan takes the buffers (q, k, v, o, lse, cu_seqlens) and returns nothing}}
func.func @missing_arg(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>) attributes {ring.plan = #ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = 3>} {
  return
}

