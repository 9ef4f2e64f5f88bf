// RUN: ring-opt %s -split-input-file -ring-verify-shardings=emit-plan-remarks -verify-diagnostics

// The two-level layout: X over the ring (axis 0), heads over axis 1, each
// head's dim over axis 2; W_o by rows; b_o replicated.
shard.grid @g(shape = 2x2x2)
func.func @valid(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>, %bq: tensor<64xf32>, %bk: tensor<32xf32>, %bv: tensor<32xf32>, %bo: tensor<32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
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
  // expected-remark @+1 {{plan: batch=1,heads=4,kv_heads=2,seq=64,head_dim=16,dtype=f32,causal=1,balance=zigzag,scale=0.25,grid=[2x2x2],axes=[0,1,2],d_model=32,bias=1 ranks=8}}
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 bias(%bq1, %bk1, %bv1, %bo1 : tensor<64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) heads = 4 mask<causal> : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}

