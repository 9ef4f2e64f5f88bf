

shard.grid @g(shape = 2)
// The per-rank function's buffers must be the plan's local shapes (the
// entry point and the checker index them by the plan).
// expected-error @+1 {{buffer 'k' (argument 1) has type 'memref<1x2x4x8xf32>' but the plan's local buffer is 'memref<1x2x8x8xf32>'}}
func.func @abi(%q: memref<1x2x8x8xf32>, %k: memref<1x2x4x8xf32>, %v: memref<1x2x8x8xf32>, %o: memref<1x2x8x8xf32>, %lse: memref<1x2x8xf32>) attributes {ring.plan = #ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  return
}

