// RUN: ring-opt %s -ring-schedule-backward=grad-comm=bf16 -ring-overlap -ring-verify-schedule -verify-diagnostics | FileCheck %s

// The backward ring on 3 ranks with bf16 gradient transfers, overlapped:
// the K/V shift of every stage starts at its top and is waited on at its
// end (as in the forward); the dK/dV accumulator finished in stage 1 is
// packed to bf16 at the end of stage 1, starts moving at the top of stage
// 2 and is waited on only before the accumulate that needs it. The last hop
// home follows the last stage.
// CHECK-LABEL: func.func @p3_backward(
// CHECK: ring.stage 0 {
// CHECK-NEXT: %[[K0:.+]] = ring.shift_start %arg1, %[[KB:[^ ]+]] stage 0
// CHECK-NEXT: %[[V0:.+]] = ring.shift_start %arg2, %[[VB:[^ ]+]] stage 0
// CHECK-NEXT: ring.block_attention_backward
// CHECK-NEXT: ring.shift_wait %[[K0]]
// CHECK-NEXT: ring.shift_wait %[[V0]]
// CHECK: ring.stage 1 {
// CHECK: ring.shift_start %[[KB]],
// CHECK: ring.zero %[[T1K:[^ ]+]] :
// CHECK: ring.block_attention_backward
// CHECK: ring.convert ins(%[[T1K]] : memref<1x2x8x16xf32>) outs(%[[SK:[^ ]+]] : memref<1x2x8x16xbf16>)
// CHECK: ring.stage 2 {
// CHECK-NEXT: %[[G:.+]] = ring.shift_start %[[SK]], %[[RK:[^ ]+]] stage 2 : memref<1x2x8x16xbf16>
// CHECK: ring.zero %[[T2K:[^ ]+]] :
// CHECK: ring.block_attention_backward
// CHECK-NEXT: ring.shift_wait %[[G]]
// CHECK-NEXT: ring.shift_wait
// CHECK-NEXT: ring.accumulate ins(%[[RK]] : memref<1x2x8x16xbf16>) outs(%[[T2K]] : memref<1x2x8x16xf32>)
// CHECK: ring.convert ins(%[[T2K]] : {{.*}}) outs(%[[SK]] :
// CHECK: }
// CHECK-NEXT: ring.shift %[[SK]], %[[RK]] stage 2
// CHECK: ring.accumulate ins(%[[RK]]
shard.grid @cluster(shape = 3x1x1)
func.func @p3_backward(%arg0: memref<1x2x8x16xf32> {ring.name = "q"}, %arg1: memref<1x2x8x16xf32> {ring.name = "k"}, %arg2: memref<1x2x8x16xf32> {ring.name = "v"}, %arg3: memref<1x2x8x16xf32> {ring.name = "o"}, %arg4: memref<1x2x8xf32> {ring.name = "lse"}, %arg5: memref<1x2x8x16xf32> {ring.name = "do"}, %arg6: memref<1x2x8x16xf32> {ring.name = "dq"}, %arg7: memref<1x2x8x16xf32> {ring.name = "dk"}, %arg8: memref<1x2x8x16xf32> {ring.name = "dv"}) attributes {ring.backward = "p3", ring.plan = #ring.plan<grid = @cluster, grid_shape = [3, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 24, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @below {{backward ring: stages 0..1 send the K/V block (2048 bytes); the dK/dV accumulators reach their owner after 2 hops of 1024 bytes (bf16, half of fp32)}}
  ring.local_attention_backward ins(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5 : memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, memref<1x2x8xf32>, memref<1x2x8x16xf32>) outs(%arg6, %arg7, %arg8 : memref<1x2x8x16xf32>, memref<1x2x8x16xf32>, memref<1x2x8x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [3, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 24, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>)
  return
}
