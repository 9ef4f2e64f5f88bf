// P = 8, causal striped, MQA: every stage is one masked block.
shard.grid @cluster(shape = 8x1x1)
func.func @p8_striped_mqa(%arg0: memref<1x4x8x16xbf16> {ring.name = "q"}, %arg1: memref<1x1x8x16xbf16> {ring.name = "k"}, %arg2: memref<1x1x8x16xbf16> {ring.name = "v"}, %arg3: memref<1x4x8x16xbf16> {ring.name = "o"}, %arg4: memref<1x4x8xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [8, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 1, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = striped, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x4x8x16xbf16>, memref<1x1x8x16xbf16>, memref<1x1x8x16xbf16>) outs(%arg3, %arg4 : memref<1x4x8x16xbf16>, memref<1x4x8xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [8, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 1, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = striped, scale = 2.500000e-01 : f64>)
  return
}
