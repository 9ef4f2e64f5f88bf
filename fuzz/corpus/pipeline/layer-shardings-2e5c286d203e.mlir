

shard.grid @g(shape = 2)
func.func @wrong_dim(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %sx = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %sn = shard.sharding @g split_axes = [[]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x64x32xf32>
  %wq1 = shard.shard %wq to %sn : tensor<32x64xf32>
  %wk1 = shard.shard %wk to %sn : tensor<32x32xf32>
  %wv1 = shard.shard %wv to %sn : tensor<32x32xf32>
  %wo1 = shard.shard %wo to %sn : tensor<64x32xf32>
  // expected-error @+1 {{x splits its dimension 2; the layer splits only x's sequence (dim 1) over the ring axis}}
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}

