// RUN: ring-opt %s -split-input-file -ring-schedule -ring-verify-schedule -verify-diagnostics | FileCheck %s

// P = 1 degrades to plain local attention: one stage, no communication.
// CHECK-LABEL: func.func @p1_causal(
// CHECK: ring.fill_partial
// CHECK: ring.stage 0 {
// CHECK-NOT: ring.shift
// CHECK: ring.block_attention {{.*}} q_rows = [0, 16] kv_rows = [0, 16] mask<causal> layout<zigzag> ring_size = 1
// CHECK: ring.merge {{.*}} rows = [0, 16]
// CHECK: ring.block_attention {{.*}} q_rows = [16, 16] kv_rows = [0, 32] mask<causal>
// CHECK: ring.merge {{.*}} rows = [16, 16]
// CHECK-NOT: ring.shift
// CHECK-NOT: ring.stage 1
// CHECK: ring.finalize
shard.grid @cluster(shape = 1x1x1)
func.func @p1_causal(%arg0: memref<1x2x32x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x32x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x32x16xbf16> {ring.name = "v"}, %arg3: memref<1x2x32x16xbf16> {ring.name = "o"}, %arg4: memref<1x2x32xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [1, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>, memref<1x2x32x16xbf16>) outs(%arg3, %arg4 : memref<1x2x32x16xbf16>, memref<1x2x32xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [1, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>)
  return
}

// -----

// P = 2 without a mask: full blocks, one shift of K and V.
// CHECK-LABEL: func.func @p2_full(
// CHECK-SAME: %[[Q:[^:]+]]: memref<1x2x16x16xf32> {ring.name = "q"}, %[[K:[^:]+]]: memref<1x2x16x16xf32> {ring.name = "k"}, %[[V:[^:]+]]: memref
// CHECK: %[[P:.+]]:3 = shard.process_multi_index
// CHECK: ring.stage 0 {
// CHECK: ring.block_attention ins(%[[Q]], %[[K]], %[[V]] : {{.*}} q_owner(%[[P]]#0) kv_owner(%[[P]]#0) q_rows = [0, 16] kv_rows = [0, 16] mask<none>
// CHECK: ring.shift %[[K]], %[[KB:[^ ]+]] stage 0
// CHECK: ring.shift %[[V]], %[[VB:[^ ]+]] stage 0
// CHECK: ring.stage 1 {
// CHECK: %[[SRC:.+]] = arith.remui
// CHECK: ring.block_attention ins(%[[Q]], %[[KB]], %[[VB]] : {{.*}} kv_owner(%[[SRC]]) q_rows = [0, 16] kv_rows = [0, 16] mask<none>
// CHECK-NOT: ring.shift
// CHECK: ring.finalize
shard.grid @cluster(shape = 2x1x1)
func.func @p2_full(%arg0: memref<1x2x16x16xf32> {ring.name = "q"}, %arg1: memref<1x2x16x16xf32> {ring.name = "k"}, %arg2: memref<1x2x16x16xf32> {ring.name = "v"}, %arg3: memref<1x2x16x16xf32> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x2x16x16xf32>, memref<1x2x16x16xf32>, memref<1x2x16x16xf32>) outs(%arg3, %arg4 : memref<1x2x16x16xf32>, memref<1x2x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [2, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 32, head_dim = 16, element_type = f32, mask = none, balance = none, scale = 2.500000e-01 : f64>)
  return
}

// -----

// P = 3, causal, contiguous: later stages compute the full block only when src < p.
// CHECK-LABEL: func.func @p3_causal_none(
// CHECK: ring.stage 0 {
// CHECK: ring.block_attention {{.*}} mask<causal> layout<none>
// CHECK: ring.stage 1 {
// CHECK: %[[SRC:.+]] = arith.remui
// CHECK: %[[BEFORE:.+]] = arith.cmpi ult, %[[SRC]],
// CHECK: scf.if %[[BEFORE]] {
// CHECK-NEXT: ring.block_attention {{.*}} q_rows = [0, 16] kv_rows = [0, 16] mask<none> layout<none>
// CHECK-NEXT: ring.merge
// CHECK-NEXT: } else {
// CHECK-NEXT: }
// CHECK: ring.stage 2 {
// CHECK: scf.if
// CHECK-NEXT: ring.block_attention {{.*}} mask<none>
// CHECK: } else {
// CHECK-NEXT: }
shard.grid @cluster(shape = 3x1x1)
func.func @p3_causal_none(%arg0: memref<1x2x16x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x16xbf16> {ring.name = "v"}, %arg3: memref<1x2x16x16xbf16> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [3, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 48, head_dim = 16, element_type = bf16, mask = causal, balance = none, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>) outs(%arg3, %arg4 : memref<1x2x16x16xbf16>, memref<1x2x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [3, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 2, kv_heads = 2, seq = 48, head_dim = 16, element_type = bf16, mask = causal, balance = none, scale = 2.500000e-01 : f64>)
  return
}

// -----

// P = 4, causal zigzag, GQA 8/2: half blocks after stage 0.
// CHECK-LABEL: func.func @p4_zigzag_gqa(
// CHECK-SAME: memref<1x8x16x16xbf16> {ring.name = "q"}, %{{.+}}: memref<1x2x16x16xbf16> {ring.name = "k"}
// CHECK: ring.stage 0 {
// CHECK: ring.block_attention {{.*}} q_rows = [0, 8] kv_rows = [0, 8] mask<causal> layout<zigzag> ring_size = 4
// CHECK: ring.block_attention {{.*}} q_rows = [8, 8] kv_rows = [0, 16] mask<causal> layout<zigzag> ring_size = 4
// CHECK-COUNT-3: scf.if
// CHECK-NOT: scf.if
// CHECK: ring.finalize
shard.grid @cluster(shape = 4x1x1)
func.func @p4_zigzag_gqa(%arg0: memref<1x8x16x16xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x16xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x16xbf16> {ring.name = "v"}, %arg3: memref<1x8x16x16xbf16> {ring.name = "o"}, %arg4: memref<1x8x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 8, kv_heads = 2, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x8x16x16xbf16>, memref<1x2x16x16xbf16>, memref<1x2x16x16xbf16>) outs(%arg3, %arg4 : memref<1x8x16x16xbf16>, memref<1x8x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [4, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 8, kv_heads = 2, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>)
  return
}

// -----

// P = 8, causal striped, MQA: every stage is one masked block.
// CHECK-LABEL: func.func @p8_striped_mqa(
// CHECK-COUNT-8: ring.block_attention {{.*}} q_rows = [0, 8] kv_rows = [0, 8] mask<causal> layout<striped> ring_size = 8
// CHECK-NOT: scf.if
// CHECK: ring.finalize
shard.grid @cluster(shape = 8x1x1)
func.func @p8_striped_mqa(%arg0: memref<1x4x8x16xbf16> {ring.name = "q"}, %arg1: memref<1x1x8x16xbf16> {ring.name = "k"}, %arg2: memref<1x1x8x16xbf16> {ring.name = "v"}, %arg3: memref<1x4x8x16xbf16> {ring.name = "o"}, %arg4: memref<1x4x8xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [8, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 1, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = striped, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x4x8x16xbf16>, memref<1x1x8x16xbf16>, memref<1x1x8x16xbf16>) outs(%arg3, %arg4 : memref<1x4x8x16xbf16>, memref<1x4x8xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [8, 1, 1], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 1, seq = 64, head_dim = 16, element_type = bf16, mask = causal, balance = striped, scale = 2.500000e-01 : f64>)
  return
}

// -----

// n = 2, m = 2, P = 2: scores are all-reduced over the dim slices.
// CHECK-LABEL: func.func @n2_m2_p2(
// CHECK: ring.stage 0 {
// CHECK: ring.block_scores {{.*}} q_rows = [0, 8] kv_rows = [0, 8]
// CHECK-NEXT: ring.all_reduce %{{.+}} stage 0 : memref<1x2x8x8xf32>
// CHECK-NEXT: ring.block_softmax_v {{.*}} mask<causal> layout<zigzag>
// CHECK-NEXT: ring.merge
// CHECK: ring.stage 1 {
// CHECK: scf.if
// CHECK: ring.block_scores {{.*}} q_rows = [0, 16] kv_rows = [0, 8]
// CHECK-NEXT: ring.all_reduce %{{.+}} stage 1 : memref<1x2x16x8xf32>
// CHECK: } else {
// CHECK: ring.block_scores {{.*}} q_rows = [8, 8] kv_rows = [0, 16]
// CHECK-NEXT: ring.all_reduce %{{.+}} stage 1 : memref<1x2x8x16xf32>
shard.grid @cluster(shape = 2x2x2)
func.func @n2_m2_p2(%arg0: memref<1x2x16x8xbf16> {ring.name = "q"}, %arg1: memref<1x2x16x8xbf16> {ring.name = "k"}, %arg2: memref<1x2x16x8xbf16> {ring.name = "v"}, %arg3: memref<1x2x16x8xbf16> {ring.name = "o"}, %arg4: memref<1x2x16xf32> {ring.name = "lse"}) attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 2, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 4, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>} {
  %c0 = arith.constant 0 : index
  %proc_linear_idx:3 = shard.process_multi_index on @cluster : index, index, index
  // expected-remark @+1 {{dim slices: a stage all-reduces up to 1536 bytes of partial scores over the 2 dim-slice ranks (a ring all-reduce sends 1536 bytes per rank), in each of 2 stages}}
  ring.local_attention ins(%arg0, %arg1, %arg2 : memref<1x2x16x8xbf16>, memref<1x2x16x8xbf16>, memref<1x2x16x8xbf16>) outs(%arg3, %arg4 : memref<1x2x16x8xbf16>, memref<1x2x16xf32>) coords(%proc_linear_idx#0, %proc_linear_idx#1, %proc_linear_idx#2) plan(<grid = @cluster, grid_shape = [2, 2, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 4, kv_heads = 4, seq = 32, head_dim = 16, element_type = bf16, mask = causal, balance = zigzag, scale = 2.500000e-01 : f64>)
  return
}
