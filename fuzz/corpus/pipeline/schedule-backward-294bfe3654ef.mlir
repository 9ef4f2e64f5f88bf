

// P = 2, causal without balancing: stage 0 is the diagonal block into the
// home accumulators; stage 1 computes the full block only where src < p,
// into a fresh travelling accumulator, which makes its one hop home after
// the last stage and is added to the home one.
// CHECK-LABEL: func.func @p2_none_backward(
// CHECK: ring.zero %[[DQ:[^ ]+]] :
// CHECK: ring.zero %[[HK:[^ ]+]] :
// CHECK: ring.zero %[[HV:[^ ]+]] :
// CHECK: ring.stage 0 {
// CHECK: ring.block_attention_backward ins(%arg0, %arg1, %arg2, {{.*}} outs(%[[DQ]], %[[HK]], %[[HV]] : {{.*}} mask<causal> layout<none>
// CHECK: ring.shift %arg1, %[[KB:[^ ]+]] stage 0
// CHECK: ring.shift %arg2, %[[VB:[^ ]+]] stage 0
// CHECK: ring.stage 1 {
// CHECK: %[[SRC:.+]] = arith.remui
// CHECK: ring.zero %[[TK:[^ ]+]] :
// CHECK: ring.zero %[[TV:[^ ]+]] :
// CHECK: %[[BEFORE:.+]] = arith.cmpi ult, %[[SRC]]
// CHECK: scf.if %[[BEFORE]] {
// CHECK-NEXT: ring.block_attention_backward ins(%arg0, %[[KB]], %[[VB]], {{.*}} outs(%[[DQ]], %[[TK]], %[[TV]] : {{.*}} kv_owner(%[[SRC]]) q_rows = [0, 16] kv_rows = [0, 16] mask<none>
// CHECK: } else {
// CHECK-NEXT: }
// CHECK-NOT: ring.shift
// CHECK: }
// CHECK: ring.shift %[[TK]], %[[RK:[^ ]+]] stage 1 : memref<1x2x16x16xf32>
// CHECK: ring.shift %[[TV]], %[[RV:[^ ]+]] stage 1 : memref<1x2x16x16xf32>
// CHECK: ring.accumulate ins(%[[RK]] : {{.*}}) outs(%[[HK]] :
// CHECK: ring.accumulate ins(%[[RV]] : {{.*}}) outs(%[[HV]] :
// CHECK: ring.convert ins(%[[HK]] : {{.*}}) outs(%arg7
shard.grid @cluster(shape = 2x1x1)
func.func @p2_none_backward(%arg0: memref<1x2x16x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x16xbf16> {ring.name = "v"}, %arg3: memref<1x2x16x16xbf16> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}, %arg5: memref<1x2x16x16xbf16> {ring.name = "do"}, %arg6: memref<1x2x16x16xbf16> {ring.name = "dq"}, %arg7: memref<1x2x16x16xbf16> {ring.name = "dk"}, %arg8: memref<1x2x16x16xbf16> {ring.name = "dv"}) attributes {ring.backward = "p2_none", ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @below {{backward ring: stages 0..0 send the K/V block (2048 bytes); the dK/dV accumulators reach their owner after 1 hop of 4096 bytes (fp32)}}
  ring.local_attention_backward ins(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5 : memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16xf32>, memref<1x2x16x16xbf16>) outs(%arg6, %arg7, %arg8 : memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [2, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = none, scale = 2.500000e-01 : f64>)
  return
}

