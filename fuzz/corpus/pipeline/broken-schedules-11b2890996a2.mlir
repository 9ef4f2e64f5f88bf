// A transfer into a buffer that is still being sent.
shard.grid @r2(shape = 2)
func.func @overwrite_in_flight(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %o: memref<1x1x4x8xf32>, %lse: memref<1x1x4xf32>) attributes {ring.plan = #ring.plan<grid = @r2, grid_shape = [2], ring_axis = 0, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>} {
  %p = shard.process_multi_index on @r2 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s1 = arith.addi %p, %c1 : index
  %src = arith.remui %s1, %c2 : index
  %ao = memref.alloc() : memref<1x1x4x8xf32>
  %al = memref.alloc() : memref<1x1x4xf32>
  %po = memref.alloc() : memref<1x1x4x8xf32>
  %pl = memref.alloc() : memref<1x1x4xf32>
  %po2 = memref.alloc() : memref<1x1x4x8xf32>
  %pl2 = memref.alloc() : memref<1x1x4xf32>
  %kb = memref.alloc() : memref<1x1x4x8xf32>
  %vb = memref.alloc() : memref<1x1x4x8xf32>
  ring.fill_partial %ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x1x4x8xf32>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x1x4x8xf32>
    // expected-error @+1 {{uses a buffer that another transfer still has in flight}}
    %tx = ring.shift_start %kb, %k stage 0 : memref<1x1x4x8xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift_wait %tk
    ring.shift_wait %tv
    ring.shift_wait %tx
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%src) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
    ring.merge ins(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
  }
  ring.finalize ins(%ao, %al : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%o, %lse : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  return
}
