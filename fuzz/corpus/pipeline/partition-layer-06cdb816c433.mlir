// RUN: ring-opt %s -ring-partition | FileCheck %s

// The whole layer on ring 2 x head groups 2 x dim slices 2: the rank's X
// tokens, its weight columns (Hq/n heads x D/m dims), W_o rows and biases
// are arguments; Q, K and V are projected before the ring into buffers of
// the attention's layout, O after it into an fp32 partial Y that is
// all-reduced (with b_o) into y.
shard.grid @g(shape = 2x2x2)
// CHECK-LABEL: func.func @layer(
// CHECK-SAME: %[[X:.+]]: memref<1x32x32xf32> {ring.name = "x"},
// CHECK-SAME: %[[WQ:.+]]: memref<32x16xf32> {ring.name = "wq"},
// CHECK-SAME: %[[WK:.+]]: memref<32x8xf32> {ring.name = "wk"},
// CHECK-SAME: %[[WV:.+]]: memref<32x8xf32> {ring.name = "wv"},
// CHECK-SAME: %[[WO:.+]]: memref<16x32xf32> {ring.name = "wo"},
// CHECK-SAME: %[[BQ:.+]]: memref<16xf32> {ring.name = "bq"},
// CHECK-SAME: %[[BK:.+]]: memref<8xf32> {ring.name = "bk"},
// CHECK-SAME: %[[BV:.+]]: memref<8xf32> {ring.name = "bv"},
// CHECK-SAME: %[[BO:.+]]: memref<32xf32> {ring.name = "bo"},
// CHECK-SAME: %[[Y:.+]]: memref<1x32x32xf32> {ring.name = "y"},
// CHECK-SAME: %[[L:.+]]: memref<1x2x32xf32> {ring.name = "lse"})
// CHECK-SAME: d_model = 32, bias = true
// CHECK: %[[C:.+]]:3 = shard.process_multi_index
// CHECK: %[[Q:.+]] = memref.alloc() : memref<1x2x32x8xf32>
// CHECK: %[[K:.+]] = memref.alloc() : memref<1x1x32x8xf32>
// CHECK: %[[V:.+]] = memref.alloc() : memref<1x1x32x8xf32>
// CHECK: %[[O:.+]] = memref.alloc() : memref<1x2x32x8xf32>
// CHECK: %[[P:.+]] = memref.alloc() : memref<1x32x32xf32>
// CHECK: ring.project ins(%[[X]], %[[WQ]], %[[BQ]] : {{.*}}) outs(%[[Q]] :
// CHECK: ring.project ins(%[[X]], %[[WK]], %[[BK]] : {{.*}}) outs(%[[K]] :
// CHECK: ring.project ins(%[[X]], %[[WV]], %[[BV]] : {{.*}}) outs(%[[V]] :
// CHECK: ring.local_attention ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[O]], %[[L]] : {{.*}}) coords(%[[C]]#0, %[[C]]#1, %[[C]]#2)
// CHECK: ring.out_project ins(%[[O]], %[[WO]] : {{.*}}) outs(%[[P]] :
// CHECK: ring.output_all_reduce ins(%[[P]], %[[BO]] : {{.*}}) outs(%[[Y]] :
func.func @layer(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %bq: tensor<64xf32>, %bk: tensor<32xf32>, %bv: tensor<32xf32>, %bo: tensor<32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %sx = shard.sharding @g split_axes = [[], [0]] : !shard.sharding
  %sw = shard.sharding @g split_axes = [[], [1, 2]] : !shard.sharding
  %so = shard.sharding @g split_axes = [[1, 2]] : !shard.sharding
  %sn = shard.sharding @g split_axes = [[]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x64x32xf32>
  %wq1 = shard.shard %wq to %sw : tensor<32x64xf32>
  %wk1 = shard.shard %wk to %sw : tensor<32x32xf32>
  %wv1 = shard.shard %wv to %sw : tensor<32x32xf32>
  %wo1 = shard.shard %wo to %so : tensor<64x32xf32>
  %bq1 = shard.shard %bq to %so : tensor<64xf32>
  %bk1 = shard.shard %bk to %so : tensor<32xf32>
  %bv1 = shard.shard %bv to %so : tensor<32xf32>
  %bo1 = shard.shard %bo to %sn : tensor<32xf32>
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 bias(%bq1, %bk1, %bv1, %bo1 : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 mask<causal> : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}
