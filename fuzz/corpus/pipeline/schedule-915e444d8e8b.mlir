// n = 2, m = 2, P = 2: scores are all-reduced over the dim slices.
shard.grid @cluster(shape = 2x2x2)
func.func @n2_m2_p2(%arg0: memref<1x2x16x8xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x8xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x8xbf16> {ring.name = "v"}, %arg3: memref<1x2x16x8xbf16> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 2, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 4, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @+1 {{dim slices: a stage all-reduces up to 1536 bytes of partial scores over the 2 dim-slice ranks (a ring all-reduce sends 1536 bytes per rank), in each of 2 stages}}
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x2x16x8xbf16>, memref<1x2x16x8xbf16>, memref<1x2x16x8xbf16>) outs(%arg3, %arg4 : memref<1x2x16x8xbf16>, memref<1x2x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [2, 2, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 4, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>)
  return
}
