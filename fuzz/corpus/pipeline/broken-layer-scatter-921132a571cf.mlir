// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// Per-rank whole-layer programs whose Y is reduce-scattered (ring 2 x head
// groups 2, Ll = 5 local rows split 3, 2): the schedule as ring-schedule
// makes it is proved; each broken reduce-scatter is rejected with the rank
// and what is wrong with its shares.

// As ring-schedule makes it: proved.
shard.grid @cluster(shape = 2x2x1)
func.func @attn(%arg0: memref<1x5x8xf32> {ring.name = "x"}, %arg1: memref<8x8xf32> {ring.name = "wq"}, %arg2: memref<8x8xf32> {ring.name = "wk"}, %arg3: memref<8x8xf32> {ring.name = "wv"}, %arg4: memref<8x8xf32> {ring.name = "wo"}, %arg5: memref<1x3x8xf32> {ring.name = "y"}, %arg6: memref<1x1x5xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 2, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 10, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, d_model = 8, layer_output = reduce_scatter>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_0 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_1 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_2 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_3 = memref.alloc() : memref<1x5x8xf32>
  ring.project ins(%arg0, %arg1 : memref<1x5x8xf32>, memref<8x8xf32>) outs(%alloc : memref<1x1x5x8xf32>)
  ring.project ins(%arg0, %arg2 : memref<1x5x8xf32>, memref<8x8xf32>) outs(%alloc_0 : memref<1x1x5x8xf32>)
  ring.project ins(%arg0, %arg3 : memref<1x5x8xf32>, memref<8x8xf32>) outs(%alloc_1 : memref<1x1x5x8xf32>)
  %alloc_4 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_5 = memref.alloc() : memref<1x1x5xf32>
  %alloc_6 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_7 = memref.alloc() : memref<1x1x5xf32>
  ring.fill_partial %alloc_4, %alloc_5 : memref<1x1x5x8xf32>, memref<1x1x5xf32>
  %alloc_8 = memref.alloc() : memref<1x1x5x8xf32>
  %alloc_9 = memref.alloc() : memref<1x1x5x8xf32>
  ring.stage 0 {
    ring.block_attention ins(%alloc, %alloc_0, %alloc_1 : memref<1x1x5x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>) outs(%alloc_6, %alloc_7 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 5] kv_rows = [0, 5] mask<none> layout<none> ring_size = 2 scale = 0.35355339059327373
    ring.merge ins(%alloc_6, %alloc_7 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) outs(%alloc_4, %alloc_5 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) rows = [0, 5]
    ring.shift %alloc_0, %alloc_8 stage 0 : memref<1x1x5x8xf32>
    ring.shift %alloc_1, %alloc_9 stage 0 : memref<1x1x5x8xf32>
  }
  ring.stage 1 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c2 = arith.constant 2 : index
    %1 = arith.remui %0, %c2 : index
    ring.block_attention ins(%alloc, %alloc_8, %alloc_9 : memref<1x1x5x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>) outs(%alloc_6, %alloc_7 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 5] kv_rows = [0, 5] mask<none> layout<none> ring_size = 2 scale = 0.35355339059327373
    ring.merge ins(%alloc_6, %alloc_7 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) outs(%alloc_4, %alloc_5 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) rows = [0, 5]
  }
  ring.finalize ins(%alloc_4, %alloc_5 : memref<1x1x5x8xf32>, memref<1x1x5xf32>) outs(%alloc_2, %arg6 : memref<1x1x5x8xf32>, memref<1x1x5xf32>)
  memref.dealloc %alloc_4 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_5 : memref<1x1x5xf32>
  memref.dealloc %alloc_6 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_7 : memref<1x1x5xf32>
  memref.dealloc %alloc_8 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_9 : memref<1x1x5x8xf32>
  ring.out_project ins(%alloc_2, %arg4 : memref<1x1x5x8xf32>, memref<8x8xf32>) outs(%alloc_3 : memref<1x5x8xf32>)
  ring.output_reduce_scatter ins(%alloc_3 : memref<1x5x8xf32>) outs(%arg5 : memref<1x3x8xf32>) shares = [3, 2]
  memref.dealloc %alloc : memref<1x1x5x8xf32>
  memref.dealloc %alloc_0 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_1 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_2 : memref<1x1x5x8xf32>
  memref.dealloc %alloc_3 : memref<1x5x8xf32>
  return
}

