shard.grid @g(shape = 2)
func.func @f(%q: tensor<2x4x64x16xf32>, %k: tensor<2x4x64x16xf32>, %v: tensor<2x4x64x16xf32>) -> (tensor<2x4x64x16xf32>, tensor<2x4x64xf32>) {
  %sq = shard.sharding @g split_axes = [[0]] : !shard.sharding
  %skv = shard.sharding @g split_axes = [[0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<2x4x64x16xf32>
  %k1 = shard.shard %k to %skv : tensor<2x4x64x16xf32>
  %v1 = shard.shard %v to %skv : tensor<2x4x64x16xf32>
  // expected-error @+1 {{the batch dimension of query is split over grid axis 0; ringc splits sequence (dim 2) over the ring axis, heads (dim 1) over head groups and head_dim (dim 3) over dim slices, never batch}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32> -> tensor<2x4x64x16xf32>, tensor<2x4x64xf32>
  return %o, %lse : tensor<2x4x64x16xf32>, tensor<2x4x64xf32>
}
