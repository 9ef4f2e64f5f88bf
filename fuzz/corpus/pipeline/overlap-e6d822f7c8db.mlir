// P = 3: each stage but the last starts its K/V transfer before its compute
// and waits after it; the last stage sends nothing.
shard.grid @cluster(shape = 3x1x1)
func.func @p3(%arg0: memref<1x2x16x16xf32> {ring.name = "q"}, %arg1: memref<1x2x16x16xf32> {ring.name = "k"}, %arg2: memref<1x2x16x16xf32> {ring.name = "v"}, %arg3: memref<1x2x16x16xf32> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [3, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 48, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_0 = memref.alloc() : memref<1x2x16xf32>
  %alloc_1 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_2 = memref.alloc() : memref<1x2x16xf32>
  ring.fill_partial %alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>
  %alloc_3 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_4 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_5 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_6 = memref.alloc() : memref<1x2x16x16xf32>
  ring.stage 0 {
    ring.block_attention ins(%arg0, %arg1, %arg2 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 3 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) rows = [0, 16]
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x2x16x16xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x2x16x16xf32>
  }
  ring.stage 1 {
    %c2 = arith.constant 2 : index
    %0 = arith.addi %proc_linear_idx#0, %c2 : index
    %c3 = arith.constant 3 : index
    %1 = arith.remui %0, %c3 : index
    ring.block_attention ins(%arg0, %alloc_3, %alloc_4 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 3 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) rows = [0, 16]
    ring.shift %alloc_3, %alloc_5 stage 1 : memref<1x2x16x16xf32>
    ring.shift %alloc_4, %alloc_6 stage 1 : memref<1x2x16x16xf32>
  }
  ring.stage 2 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c3 = arith.constant 3 : index
    %1 = arith.remui %0, %c3 : index
    ring.block_attention ins(%arg0, %alloc_5, %alloc_6 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 3 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) rows = [0, 16]
  }
  ring.finalize ins(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%arg3, %arg4 : memref<1x2x16x16xf32>, memref<1x2x16xf32>)
  memref.dealloc %alloc : memref<1x2x16x16xf32>
  memref.dealloc %alloc_0 : memref<1x2x16xf32>
  memref.dealloc %alloc_1 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_2 : memref<1x2x16xf32>
  memref.dealloc %alloc_3 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_4 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_5 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_6 : memref<1x2x16x16xf32>
  return
}
