

// The ring truncated too far: the backward stage (the successor's block,
// which the right side of the window needs) is missing.
shard.grid @cluster(shape = 4x1x1)
// expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) query rows [0, 4) never see rows [0, 4) of ring rank 1's keys, which the mask and the window leave visible}}
func.func @missing_backward_stage(%arg0: memref<1x1x4x8xf32> {ring.name = "q"}, %arg1: memref<1x1x4x8xf32> {ring.name = "k"}, %arg2: memref<1x1x4x8xf32> {ring.name = "v"}, %arg3: memref<1x1x4x8xf32> {ring.name = "o"}, %arg4: memref<1x1x4xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 16, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 2, right = 1>>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_0 = memref.alloc() : memref<1x1x4xf32>
  %alloc_1 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x4xf32>
  ring.fill_partial %alloc, %alloc_0 : memref<1x1x4x8xf32>, memref<1x1x4xf32>
  %alloc_3 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_4 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x4x8xf32>
  %alloc_6 = memref.alloc() : memref<1x1x4x8xf32>
  ring.stage 0 {
    ring.block_attention ins(%arg0, %arg1, %arg2 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%alloc, %alloc_0 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x1x4x8xf32>
  }
  ring.stage 1 {
    %c3 = arith.constant 3 : index
    %0 = arith.addi %proc_linear_idx#0, %c3 : index
    %c4 = arith.constant 4 : index
    %1 = arith.remui %0, %c4 : index
    %c1 = arith.constant 1 : index
    %2 = arith.cmpi uge, %proc_linear_idx#0, %c1 : index
    scf.if %2 {
      ring.block_attention ins(%arg0, %alloc_3, %alloc_4 : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 4] kv_rows = [0, 4] mask<none> layout<none> window<left = 2, right = 1> ring_size = 4 scale = 0.35355339059327373
      ring.merge ins(%alloc_1, %alloc_2 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%alloc, %alloc_0 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) rows = [0, 4]
    }
    ring.shift %arg1, %alloc_5 stage 1 backward : memref<1x1x4x8xf32>
    ring.shift %arg2, %alloc_6 stage 1 backward : memref<1x1x4x8xf32>
  }
  ring.finalize ins(%alloc, %alloc_0 : memref<1x1x4x8xf32>, memref<1x1x4xf32>) outs(%arg3, %arg4 : memref<1x1x4x8xf32>, memref<1x1x4xf32>)
  memref.dealloc %alloc : memref<1x1x4x8xf32>
  memref.dealloc %alloc_0 : memref<1x1x4xf32>
  memref.dealloc %alloc_1 : memref<1x1x4x8xf32>
  memref.dealloc %alloc_2 : memref<1x1x4xf32>
  memref.dealloc %alloc_3 : memref<1x1x4x8xf32>
  memref.dealloc %alloc_4 : memref<1x1x4x8xf32>
  memref.dealloc %alloc_5 : memref<1x1x4x8xf32>
  memref.dealloc %alloc_6 : memref<1x1x4x8xf32>
  return
}

