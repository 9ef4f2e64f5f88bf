

// The same schedule with the LSE's all-to-all missing its degree: 7 rows
// and 4 do not make an all-to-all of the degree the shapes imply.
shard.grid @cluster(shape = 1x1x1x2)
func.func @attn(%arg0: memref<1x2x4x16xf32>, %arg1: memref<1x2x4x16xf32>, %arg2: memref<1x2x4x16xf32>, %arg3: memref<1x2x4x16xf32>, %arg4: memref<1x2x4xf32>) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 7, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64, a2a_axis = 3>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:4 = shard.process_multi_index on @cluster : index, index, index, index
  %alloc = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_0 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_1 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_2 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_3 = memref.alloc() : memref<1x1x7xf32>
  ring.all_to_all <seq_to_heads> %arg0, %alloc id 0 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg1, %alloc_0 id 1 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  ring.all_to_all <seq_to_heads> %arg2, %alloc_1 id 2 degree 2 : memref<1x2x4x16xf32>, memref<1x1x7x16xf32>
  %alloc_4 = memref.alloc() : memref<1x1x7x16xf32>
  %alloc_5 = memref.alloc() : memref<1x1x7xf32>
  ring.stage 0 {
    ring.block_attention_accumulate ins(%alloc, %alloc_0, %alloc_1 : memref<1x1x7x16xf32>, memref<1x1x7x16xf32>, memref<1x1x7x16xf32>) acc(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 7] kv_rows = [0, 7] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01 first
  }
  ring.finalize ins(%alloc_4, %alloc_5 : memref<1x1x7x16xf32>, memref<1x1x7xf32>) outs(%alloc_2, %alloc_3 : memref<1x1x7x16xf32>, memref<1x1x7xf32>)
  memref.dealloc %alloc_4 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_5 : memref<1x1x7xf32>
  ring.all_to_all <heads_to_seq> %alloc_2, %arg3 id 3 degree 2 : memref<1x1x7x16xf32>, memref<1x2x4x16xf32>
  // expected-error @+1 {{'ring.all_to_all' op buffers 'memref<1x1x7xf32>' and 'memref<1x2x4xf32>' do not imply the a2a degree (7 tokens are no multiple of 4); give it with `degree U` (uneven shares)}}
  ring.all_to_all <heads_to_seq> %alloc_3, %arg4 id 4 : memref<1x1x7xf32>, memref<1x2x4xf32>
  memref.dealloc %alloc : memref<1x1x7x16xf32>
  memref.dealloc %alloc_0 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_1 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_2 : memref<1x1x7x16xf32>
  memref.dealloc %alloc_3 : memref<1x1x7xf32>
  return
}
