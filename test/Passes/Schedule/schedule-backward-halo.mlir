// RUN: ring-opt %s -ring-schedule-backward -ring-verify-schedule -verify-diagnostics | FileCheck %s
// RUN: ring-opt %s -ring-schedule-backward="grad-comm=bf16" -ring-verify-schedule | FileCheck %s --check-prefix=BF16

// The backward halo of a sliding window: a ring of 6, 16 tokens per rank,
// not causal, window left 20 / right 10. planRingStages keeps stages 0,
// 1, 2 (forward: blocks of the 2 predecessors) and −1 (backward: the
// successor's block), A = 2, B = 1, as in the forward. Each stage adds its
// block's dK/dV into the rank's partial for that distance; the partials go
// home by chains of hops that add at each rank: the predecessors' blocks
// 2 hops to p − 1 (hop 1 in stage 3, under its compute; hop 2 in the round
// after the last stage), the successor's block 1 hop to p + 1 (in the same
// round, the other way).
// CHECK-LABEL: func.func @halo(
// CHECK: ring.zero %[[DQ:[^ ]+]] :
// CHECK: ring.zero %[[HK:[^ ]+]] :
// CHECK: ring.zero %[[HV:[^ ]+]] :
// CHECK: ring.zero %[[F1K:[^ ]+]] :
// CHECK: ring.zero %[[F1V:[^ ]+]] :
// CHECK: ring.zero %[[F2K:[^ ]+]] :
// CHECK: ring.zero %[[F2V:[^ ]+]] :
// CHECK: ring.zero %[[B1K:[^ ]+]] :
// CHECK: ring.zero %[[B1V:[^ ]+]] :
// CHECK: ring.stage 0 {
// CHECK: ring.block_attention_backward {{.*}} outs(%[[DQ]], %[[HK]], %[[HV]] :
// CHECK: ring.shift %arg1, %{{.+}} stage 0 :
// CHECK: ring.stage 1 {
// CHECK: ring.block_attention_backward {{.*}} outs(%[[DQ]], %[[F1K]], %[[F1V]] :
// CHECK: ring.shift %{{.+}}, %{{.+}} stage 1 :
// CHECK: ring.stage 2 {
// CHECK: ring.block_attention_backward {{.*}} outs(%[[DQ]], %[[F2K]], %[[F2V]] :
// CHECK: ring.shift %arg1, %{{.+}} stage 2 backward :
// CHECK: ring.shift %arg2, %{{.+}} stage 2 backward :
// CHECK: ring.stage 3 {
// CHECK: ring.block_attention_backward {{.*}} outs(%[[DQ]], %[[B1K]], %[[B1V]] :
// CHECK: ring.shift %[[F2K]], %[[RK:[^ ]+]] stage 3 backward :
// CHECK: ring.shift %[[F2V]], %[[RV:[^ ]+]] stage 3 backward :
// CHECK: ring.accumulate ins(%[[RK]] : {{.*}}) outs(%[[F1K]] :
// CHECK: ring.accumulate ins(%[[RV]] : {{.*}}) outs(%[[F1V]] :
// CHECK-NOT: ring.shift
// CHECK: ring.stage 4 {
// CHECK-NOT: ring.block_attention_backward
// CHECK: ring.shift %[[F1K]], %[[RK]] stage 4 backward :
// CHECK: ring.shift %[[F1V]], %[[RV]] stage 4 backward :
// CHECK: ring.accumulate ins(%[[RK]] : {{.*}}) outs(%[[HK]] :
// CHECK: ring.accumulate ins(%[[RV]] : {{.*}}) outs(%[[HV]] :
// CHECK: ring.shift %[[B1K]], %[[SK:[^ ]+]] stage 4 :
// CHECK: ring.shift %[[B1V]], %[[SV:[^ ]+]] stage 4 :
// CHECK: ring.accumulate ins(%[[SK]] : {{.*}}) outs(%[[HK]] :
// CHECK: ring.accumulate ins(%[[SV]] : {{.*}}) outs(%[[HV]] :
// CHECK-NEXT: }
// CHECK-NOT: ring.stage
// CHECK: ring.convert ins(%[[HK]] : {{.*}}) outs(%arg7
// CHECK: ring.convert ins(%[[HV]] : {{.*}}) outs(%arg8

// With grad-comm=bf16 each hop's payload is packed at the end of the stage
// before it (the partial of distance 2 after stage 2, the running sum after
// hop 1, the successor's partial after the last stage).
// BF16-LABEL: func.func @halo(
// BF16: ring.stage 2 {
// BF16: ring.convert ins(%[[F2K:[^ ]+]] : memref<1x1x16x8xf32>) outs(%[[PK:[^ ]+]] : memref<1x1x16x8xbf16>)
// BF16: ring.shift %arg1, %{{.+}} stage 2 backward : memref<1x1x16x8xf32>
// BF16: ring.stage 3 {
// BF16: ring.shift %[[PK]], %[[RK:[^ ]+]] stage 3 backward : memref<1x1x16x8xbf16>
// BF16: ring.accumulate ins(%[[RK]] : memref<1x1x16x8xbf16>) outs(%[[F1K:[^ ]+]] : memref<1x1x16x8xf32>)
// BF16: ring.convert ins(%[[F1K]] : memref<1x1x16x8xf32>) outs(%[[PK]] : memref<1x1x16x8xbf16>)
// BF16: ring.convert ins(%{{[^ ]+}} : memref<1x1x16x8xf32>) outs(%{{[^ ]+}} : memref<1x1x16x8xbf16>)
// BF16: ring.convert ins(%{{[^ ]+}} : memref<1x1x16x8xf32>) outs(%[[QK:[^ ]+]] : memref<1x1x16x8xbf16>)
// BF16: ring.stage 4 {
// BF16: ring.shift %[[PK]], %[[RK]] stage 4 backward : memref<1x1x16x8xbf16>
// BF16: ring.shift %[[QK]], %{{.+}} stage 4 : memref<1x1x16x8xbf16>
shard.grid @cluster(shape = 6x1x1)
func.func @halo(%arg0: memref<1x1x16x8xf32> {ring.name = "q"}, %arg1: memref<1x1x16x8xf32> {ring.name = "k"}, %arg2: memref<1x1x16x8xf32> {ring.name = "v"}, %arg3: memref<1x1x16x8xf32> {ring.name = "o"}, %arg4: memref<1x1x16xf32> {ring.name = "lse"}, %arg5: memref<1x1x16x8xf32> {ring.name = "do"}, %arg6: memref<1x1x16x8xf32> {ring.name = "dq"}, %arg7: memref<1x1x16x8xf32> {ring.name = "dk"}, %arg8: memref<1x1x16x8xf32> {ring.name = "dv"}) attributes {ring.backward = "halo", ring.plan = #ring.plan<grid = @cluster, grid_shape = [6, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 96, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 20, right = 10>>} {
  %c:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @below {{backward halo (window left 20, right 10): 4 of 6 ring stages (2 forward, 1 backward shifts of K and V, 1024 bytes each); the dK/dV partials go home in 2 hops to p-1 and 1 hop to p+1 of 1024 bytes (fp32), adding at each rank; saves 2 stages and 2 x (1024 + 1024) = 4096 bytes per rank}}
  ring.local_attention_backward ins(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5 : memref<1x1x16x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16xf32>, memref<1x1x16x8xf32>) outs(%arg6, %arg7, %arg8 : memref<1x1x16x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16x8xf32>) coords(%c#0, %c#1, %c#2) plan(<grid = @cluster, grid_shape = [6, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 1, kv_heads = 1, seq = 96, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35355339059327373 : f64, window = <left = 20, right = 10>>)
  return
}
