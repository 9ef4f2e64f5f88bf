

shard.grid @g(shape = 2)
func.func @local_coords(%q: memref<1x2x8x8xf32>, %k: memref<1x2x8x8xf32>, %v: memref<1x2x8x8xf32>, %o: memref<1x2x8x8xf32>, %lse: memref<1x2x8xf32>, %c: index) {
  // expected-error @+1 {{expects 3 coordinates (ring, head group, dim slice), got 1}}
  ring.local_attention ins(%q, %k, %v : memref<1x2x8x8xf32>, memref<1x2x8x8xf32>, memref<1x2x8x8xf32>) outs(%o, %lse : memref<1x2x8x8xf32>, memref<1x2x8xf32>) coords(%c) plan(#ring.plan<grid = @g, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>)
  return
}

