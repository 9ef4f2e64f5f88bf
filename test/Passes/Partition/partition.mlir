// RUN: ring-opt %s -split-input-file -ring-partition | FileCheck %s

// Ring 4 x head groups 2 x dim slices 2, causal GQA: local shapes
// [B, Hq/n, L/P, D/m] and [B, Hkv/n, L/P, D/m], destination-passing memrefs,
// coordinates from shard.process_multi_index.
shard.grid @cluster(shape = 4x2x2)
// CHECK-LABEL: func.func @attn(
// CHECK-SAME: %[[Q:.+]]: memref<1x16x256x64xbf16> {ring.name = "q"},
// CHECK-SAME: %[[K:.+]]: memref<1x4x256x64xbf16> {ring.name = "k"},
// CHECK-SAME: %[[V:.+]]: memref<1x4x256x64xbf16> {ring.name = "v"},
// CHECK-SAME: %[[O:.+]]: memref<1x16x256x64xbf16> {ring.name = "o"},
// CHECK-SAME: %[[L:.+]]: memref<1x16x256xf32> {ring.name = "lse"})
// CHECK-SAME: attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [4, 2, 2], ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1, heads = 32, kv_heads = 8, seq = 1024, head_dim = 128, element_type = bf16, mask = causal, balance = zigzag
// CHECK-NOT: shard.shard
// CHECK-NOT: shard.sharding
// CHECK: %[[C:.+]]:3 = shard.process_multi_index on @cluster : index, index, index
// CHECK: ring.local_attention ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[O]], %[[L]] : {{.*}}) coords(%[[C]]#0, %[[C]]#1, %[[C]]#2)
// CHECK-NEXT: return
func.func @attn(%q: tensor<1x32x1024x128xbf16>, %k: tensor<1x8x1024x128xbf16>, %v: tensor<1x8x1024x128xbf16>)
    -> (tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>) {
  %s = shard.sharding @cluster split_axes = [[], [1], [0], [2]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x1024x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x8x1024x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x8x1024x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>, tensor<1x8x1024x128xbf16> -> tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
  return %o, %lse : tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
}

// -----

// A grid whose axes play permuted roles; the missing ring role gets
// coordinate 0.
shard.grid @heads4x4(shape = 4x4)
// CHECK-LABEL: func.func @two_level(
// CHECK-SAME: memref<1x8x10000x32xbf16>
// CHECK-DAG: %[[Z:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C:.+]]:2 = shard.process_multi_index on @heads4x4 : index, index
// CHECK: ring.local_attention {{.*}} coords(%[[Z]], %[[C]]#0, %[[C]]#1)
func.func @two_level(%q: tensor<1x32x10000x128xbf16>, %k: tensor<1x32x10000x128xbf16>, %v: tensor<1x32x10000x128xbf16>)
    -> (tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>) {
  %s = shard.sharding @heads4x4 split_axes = [[], [0], [], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x10000x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x32x10000x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x32x10000x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x32x10000x128xbf16>, tensor<1x32x10000x128xbf16>, tensor<1x32x10000x128xbf16> -> tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
  return %o, %lse : tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
}

// -----

// A single-device spec: no grid, every coordinate 0.
// CHECK-LABEL: func.func @single(
// CHECK-SAME: memref<2x4x64x32xf32> {ring.name = "q"}
// CHECK-NOT: shard.process_multi_index
// CHECK: %[[Z:.+]] = arith.constant 0 : index
// CHECK: ring.local_attention {{.*}} coords(%[[Z]], %[[Z]], %[[Z]])
func.func @single(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x32xf32>)
    -> (tensor<2x4x64x32xf32>, tensor<2x4x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
  return %o, %lse : tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
}
