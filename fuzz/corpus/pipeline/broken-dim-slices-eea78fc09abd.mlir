// With head_dim split over 2 dim slices, the softmax must read scores summed
// over the slices: here the all-reduce is missing.
shard.grid @cluster(shape = 1x1x2)
func.func @no_reduce(%arg0: memref<1x2x16x8xf32> {ring.name = "q"}, %arg1: memref<1x2x16x8xf32> {ring.name = "k"}, %arg2: memref<1x2x16x8xf32> {ring.name = "v"}, %arg3: memref<1x2x16x8xf32> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 16, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  %alloc = memref.alloc() : memref<1x2x16x8xf32>
  %alloc_0 = memref.alloc() : memref<1x2x16xf32>
  %alloc_1 = memref.alloc() : memref<1x2x16x8xf32>
  %alloc_2 = memref.alloc() : memref<1x2x16xf32>
  ring.fill_partial %alloc, %alloc_0 : memref<1x2x16x8xf32>, memref<1x2x16xf32>
  %alloc_3 = memref.alloc() : memref<1x2x16x16xf32>
  ring.stage 0 {
    ring.block_scores ins(%arg0, %arg1 : memref<1x2x16x8xf32>, memref<1x2x16x8xf32>) outs(%alloc_3 : memref<1x2x16x16xf32>) q_rows = [0, 16] kv_rows = [0, 16]
    // expected-error @+1 {{on rank (ring 0, head group 0, dim slice 0) at stage 0 reads partial scores before they are all-reduced over the dim slices}}
    ring.block_softmax_v ins(%alloc_3, %arg2 : memref<1x2x16x16xf32>, memref<1x2x16x8xf32>) outs(%alloc_1, %alloc_2 : memref<1x2x16x8xf32>, memref<1x2x16xf32>) q_owner(%proc_linear_idx#0) kv_owner(%proc_linear_idx#0) q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none> ring_size = 1 scale = 2.500000e-01
    ring.merge ins(%alloc_1, %alloc_2 : memref<1x2x16x8xf32>, memref<1x2x16xf32>) outs(%alloc, %alloc_0 : memref<1x2x16x8xf32>, memref<1x2x16xf32>) rows = [0, 16]
  }
  ring.finalize ins(%alloc, %alloc_0 : memref<1x2x16x8xf32>, memref<1x2x16xf32>) outs(%arg3, %arg4 : memref<1x2x16x8xf32>, memref<1x2x16xf32>)
  memref.dealloc %alloc : memref<1x2x16x8xf32>
  memref.dealloc %alloc_0 : memref<1x2x16xf32>
  memref.dealloc %alloc_1 : memref<1x2x16x8xf32>
  memref.dealloc %alloc_2 : memref<1x2x16xf32>
  memref.dealloc %alloc_3 : memref<1x2x16x16xf32>
  return
}
