

shard.grid @g(shape = 2x4)
func.func @dim_slices_do_not_divide(%x: tensor<1x64x32xf32>, %wq: tensor<32x24xf32>, %wk: tensor<32x24xf32>, %wv: tensor<32x24xf32>, %wo: tensor<24x32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %sx = shard.sharding @g split_axes = [[]] : !shard.sharding
  %sw = shard.sharding @g split_axes = [[], [0, 1]] : !shard.sharding
  %so = shard.sharding @g split_axes = [[0, 1]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x64x32xf32>
  %wq1 = shard.shard %wq to %sw : tensor<32x24xf32>
  %wk1 = shard.shard %wk to %sw : tensor<32x24xf32>
  %wv1 = shard.shard %wv to %sw : tensor<32x24xf32>
  %wo1 = shard.shard %wo to %so : tensor<24x32xf32>
  // expected-error @+1 {{head_dim (6) is not divisible by dim_slices (4); valid dim_slices divide 6: 1, 2, 3, 6}}
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 heads = 4 : tensor<1x64x32xf32>, tensor<32x24xf32>, tensor<32x24xf32>, tensor<32x24xf32>, tensor<24x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}
