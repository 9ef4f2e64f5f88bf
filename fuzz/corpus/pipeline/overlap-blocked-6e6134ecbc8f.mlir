// A stage whose compute reads the buffer its shift receives into cannot
// overlap: that shift stays blocking and the pass says why; the V shift
// still overlaps.
shard.grid @cluster(shape = 2x1x1)
func.func @blocked(%arg0: memref<1x2x16x16xf32> {ring.name = "q"}, %arg1: memref<1x2x16x16xf32> {ring.name = "k"}, %arg2: memref<1x2x16x16xf32> {ring.name = "v"}, %arg3: memref<1x2x16x16xf32> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_0 = memref.alloc() : memref<1x2x16xf32>
  %alloc_1 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_2 = memref.alloc() : memref<1x2x16xf32>
  ring.fill_partial %alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>
  %alloc_3 = memref.alloc() : memref<1x2x16x16xf32>
  %alloc_4 = memref.alloc() : memref<1x2x16x16xf32>
    ring.stage 0 {
    ring.block_attention ins(%arg0, %alloc_3, %arg2 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 2 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) rows = [0, 16]
    // expected-remark @+1 {{not overlapped: an op of stage 0 before it uses its buffers}}
    ring.shift %arg1, %alloc_3 stage 0 : memref<1x2x16x16xf32>
    ring.shift %arg2, %alloc_4 stage 0 : memref<1x2x16x16xf32>
  }
  ring.stage 1 {
    %c1 = arith.constant 1 : index
    %0 = arith.addi %proc_linear_idx#0, %c1 : index
    %c2 = arith.constant 2 : index
    %1 = arith.remui %0, %c2 : index
    ring.block_attention ins(%arg0, %alloc_3, %alloc_4 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%1) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 2 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) rows = [0, 16]
  }
  ring.finalize ins(%alloc, %alloc_0 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) outs(%arg3, %arg4 : memref<1x2x16x16xf32>, memref<1x2x16xf32>)
  memref.dealloc %alloc : memref<1x2x16x16xf32>
  memref.dealloc %alloc_0 : memref<1x2x16xf32>
  memref.dealloc %alloc_1 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_2 : memref<1x2x16xf32>
  memref.dealloc %alloc_3 : memref<1x2x16x16xf32>
  memref.dealloc %alloc_4 : memref<1x2x16x16xf32>
  return
}
