

func.func @local_wrong_size(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>, %cu: memref<3xi32>, %c: index) {
  // expected-error @+1 {{docs 'memref<3xi32>' must hold max_docs + 1 = 4 boundaries}}
  ring.local_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%o, %l : memref<1x1x8x8xf32>, memref<1x1x8xf32>) docs(%cu : memref<3xi32>) coords(%c, %c, %c) plan(#ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = 3>)
  return
}

