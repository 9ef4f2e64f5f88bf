// RUN: ring-opt %s -split-input-file -ring-schedule-backward -ring-verify-schedule -verify-diagnostics | FileCheck %s

// P = 1: one stage, no communication. D once, dQ and the home dK/dV
// accumulators zeroed, the forward's two zigzag blocks at stage 0, and the
// fp32 accumulators converted to the bf16 outputs.
// CHECK-LABEL: func.func @p1_causal_backward(
// CHECK: ring.grad_delta ins(%arg3, %arg5 : {{.*}}) outs(%[[D:[^ ]+]] :
// CHECK: ring.zero %[[DQ:[^ ]+]] :
// CHECK: ring.zero %[[DK:[^ ]+]] :
// CHECK: ring.zero %[[DV:[^ ]+]] :
// CHECK: ring.stage 0 {
// CHECK-NEXT: ring.block_attention_backward ins(%arg0, %arg1, %arg2, %arg5, %arg4, %[[D]] : {{.*}} outs(%[[DQ]], %[[DK]], %[[DV]] : {{.*}} q_rows = [0, 16] kv_rows = [0, 16] mask<causal> layout<zigzag> ring_size = 1
// CHECK-NEXT: ring.block_attention_backward {{.*}} q_rows = [16, 16] kv_rows = [0, 32] mask<causal>
// CHECK-NEXT: }
// CHECK-NOT: ring.shift
// CHECK-NOT: ring.accumulate
// CHECK: ring.convert ins(%[[DQ]] : memref<1x2x32x16xf32>) outs(%arg6 : memref<1x2x32x16xbf16>)
// CHECK: ring.convert ins(%[[DK]] : {{.*}}) outs(%arg7
// CHECK: ring.convert ins(%[[DV]] : {{.*}}) outs(%arg8
shard.grid @cluster(shape = 1x1x1)
func.func @p1_causal_backward(%arg0: memref<1x2x32x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x32x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x32x16xbf16> {ring.name = "v"}, %arg3: memref<1x2x32x16xbf16> {ring.name = "o"}, %arg4: memref<1x2x32xf32> {ring.name = "lse"}, %arg5: memref<1x2x32x16xbf16> {ring.name = "do"}, %arg6: memref<1x2x32x16xbf16> {ring.name = "dq"}, %arg7: memref<1x2x32x16xbf16> {ring.name = "dk"}, %arg8: memref<1x2x32x16xbf16> {ring.name = "dv"}) attributes {ring.backward = "p1_causal", ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention_backward ins(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5 : memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>, memref<1x2x32xf32>, memref<1x2x32x16xbf16>) outs(%arg6, %arg7, %arg8 : memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [1, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>)
  return
}

