

// dK's sum reads the dV replicas before they arrive (dK and dV swapped
// where the replicas are summed).
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn_backward(%q: memref<1x2x4x16xf32>, %k: memref<1x1x4x16xf32>, %v: memref<1x1x4x16xf32>, %o: memref<1x2x4x16xf32>, %lse: memref<1x2x4xf32>, %do: memref<1x2x4x16xf32>, %dq: memref<1x2x4x16xf32>, %dk: memref<1x1x4x16xf32>, %dv: memref<1x1x4x16xf32>) attributes {ring.backward = "attn", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 1, seq = 8, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c:4 = shard.process_multi_index on @cluster : index, index, index, index
  %qh = memref.alloc() : memref<1x1x8x16xf32>
  %kh = memref.alloc() : memref<1x1x8x16xf32>
  %vh = memref.alloc() : memref<1x1x8x16xf32>
  %oh = memref.alloc() : memref<1x1x8x16xf32>
  %doh = memref.alloc() : memref<1x1x8x16xf32>
  %dqh = memref.alloc() : memref<1x1x8x16xf32>
  %dkh = memref.alloc() : memref<1x1x8x16xf32>
  %dvh = memref.alloc() : memref<1x1x8x16xf32>
  %dqa = memref.alloc() : memref<1x1x8x16xf32>
  %dka = memref.alloc() : memref<1x1x8x16xf32>
  %dva = memref.alloc() : memref<1x1x8x16xf32>
  %lh = memref.alloc() : memref<1x1x8xf32>
  %delta = memref.alloc() : memref<1x1x8xf32>
  %dkr = memref.alloc() : memref<1x2x4x16xf32>
  %dvr = memref.alloc() : memref<1x2x4x16xf32>
  ring.all_to_all <seq_to_heads> %q, %qh id 0 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %k, %kh id 1 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %v, %vh id 2 : memref<1x1x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %o, %oh id 3 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.all_to_all <seq_to_heads> %lse, %lh id 4 : memref<1x2x4xf32>, memref<1x1x8xf32>
  ring.all_to_all <seq_to_heads> %do, %doh id 5 : memref<1x2x4x16xf32>, memref<1x1x8x16xf32>
  ring.grad_delta ins(%oh, %doh : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%delta : memref<1x1x8xf32>)
  ring.zero %dqa : memref<1x1x8x16xf32>
  ring.zero %dka : memref<1x1x8x16xf32>
  ring.zero %dva : memref<1x1x8x16xf32>
  ring.stage 0 {
    ring.block_attention_backward ins(%qh, %kh, %vh, %doh, %lh, %delta : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%dqa, %dka, %dva : memref<1x1x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
  }
  ring.convert ins(%dqa : memref<1x1x8x16xf32>) outs(%dqh : memref<1x1x8x16xf32>)
  ring.convert ins(%dka : memref<1x1x8x16xf32>) outs(%dkh : memref<1x1x8x16xf32>)
  ring.convert ins(%dva : memref<1x1x8x16xf32>) outs(%dvh : memref<1x1x8x16xf32>)
  ring.all_to_all <heads_to_seq> %dqh, %dq id 6 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.all_to_all <heads_to_seq> %dkh, %dkr id 7 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0, a2a 0) sums replicas that no all-to-all delivered}}
  ring.sum_replicas ins(%dvr : memref<1x2x4x16xf32>) outs(%dk : memref<1x1x4x16xf32>)
  ring.all_to_all <heads_to_seq> %dvh, %dvr id 8 : memref<1x1x8x16xf32>, memref<1x2x4x16xf32>
  ring.sum_replicas ins(%dkr : memref<1x2x4x16xf32>) outs(%dv : memref<1x1x4x16xf32>)
  return
}

