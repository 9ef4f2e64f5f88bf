

// Dim slices: Q·Kᵀ and dO·Vᵀ of every block are partial sums over the
// slice, all-reduced before the block backward reads them; D is all-reduced
// once.
// CHECK-LABEL: func.func @p2_m2_backward(
// CHECK: ring.grad_delta ins(%arg3, %arg5 : {{.*}}) outs(%[[D:[^ ]+]] :
// CHECK-NEXT: ring.all_reduce %[[D]] stage 0
// CHECK: ring.stage 0 {
// CHECK: ring.block_scores ins(%arg0, %arg1 : {{.*}}) outs(%[[S:[^ ]+]] : {{.*}}) q_rows = [0, 8] kv_rows = [0, 8]
// CHECK-NEXT: ring.all_reduce %[[S]] stage 0
// CHECK-NEXT: ring.block_scores ins(%arg5, %arg2 : {{.*}}) outs(%[[DP:[^ ]+]] :
// CHECK-NEXT: ring.all_reduce %[[DP]] stage 0
// CHECK-NEXT: ring.block_attention_backward ins({{.*}}) scores(%[[S]], %[[DP]] : {{.*}}) outs(
shard.grid @cluster(shape = 2x1x2)
func.func @p2_m2_backward(%arg0: memref<1x2x16x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x16xbf16> {ring.name = "v"}, %arg3: memref<1x2x16x16xbf16> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}, %arg5: memref<1x2x16x16xbf16> {ring.name = "do"}, %arg6: memref<1x2x16x16xbf16> {ring.name = "dq"}, %arg7: memref<1x2x16x16xbf16> {ring.name = "dk"}, %arg8: memref<1x2x16x16xbf16> {ring.name = "dv"}) attributes {ring.backward = "p2_m2", ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 32, element_type = bf16, mask = causal, balance = zigzag, scale = 0.17677669529663687 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @below {{backward ring: stages 0..0 send the K/V block (2048 bytes); the dK/dV accumulators reach their owner after 1 hop of 4096 bytes (fp32)}}
  // expected-remark @below {{dim slices: a backward stage all-reduces up to 2 x 1024 bytes (scores Q·Kᵀ and dP = dO·Vᵀ) over the 2 dim-slice ranks (a ring all-reduce sends 2048 bytes per rank), in each of 2 stages, plus the rows of D once}}
  ring.local_attention_backward ins(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5 : memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16xf32>, memref<1x2x16x16xbf16>) outs(%arg6, %arg7, %arg8 : memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [2, 1, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 32, element_type = bf16, mask = causal, balance = zigzag, scale = 0.17677669529663687 : f64>)
  return
}
