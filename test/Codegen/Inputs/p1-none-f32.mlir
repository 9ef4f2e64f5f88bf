// Hand-written overlapped per-rank program on one device: no mask, f32,
// 2 heads, L = 40 (not a multiple of the key tile 16 nor of the query
// tile), head_dim 24 (vectors of 8).
shard.grid @one(shape = 1)
func.func @p1(%q: memref<2x2x40x24xf32>, %k: memref<2x2x40x24xf32>,
              %v: memref<2x2x40x24xf32>, %o: memref<2x2x40x24xf32>,
              %lse: memref<2x2x40xf32>)
    attributes {ring.plan = #ring.plan<grid = @one, grid_shape = [1],
      ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 2,
      heads = 2, kv_heads = 2, seq = 40, head_dim = 24, element_type = f32,
      mask = none, balance = none, scale = 0.20412414523193154 : f64>} {
  %c:1 = shard.process_multi_index on @one : index
  %acc_o = memref.alloc() : memref<2x2x40x24xf32>
  %acc_l = memref.alloc() : memref<2x2x40xf32>
  %po = memref.alloc() : memref<2x2x40x24xf32>
  %pl = memref.alloc() : memref<2x2x40xf32>
  ring.fill_partial %acc_o, %acc_l : memref<2x2x40x24xf32>, memref<2x2x40xf32>
  ring.stage 0 {
    ring.block_attention ins(%q, %k, %v : memref<2x2x40x24xf32>, memref<2x2x40x24xf32>, memref<2x2x40x24xf32>)
        outs(%po, %pl : memref<2x2x40x24xf32>, memref<2x2x40xf32>)
        q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 40] kv_rows = [0, 40]
        mask<none> layout<none> ring_size = 1 scale = 0.20412414523193154
    ring.merge ins(%po, %pl : memref<2x2x40x24xf32>, memref<2x2x40xf32>)
        outs(%acc_o, %acc_l : memref<2x2x40x24xf32>, memref<2x2x40xf32>) rows = [0, 40]
  }
  ring.finalize ins(%acc_o, %acc_l : memref<2x2x40x24xf32>, memref<2x2x40xf32>)
      outs(%o, %lse : memref<2x2x40x24xf32>, memref<2x2x40xf32>)
  return
}
