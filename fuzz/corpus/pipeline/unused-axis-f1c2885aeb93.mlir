shard.grid @g(shape = 2x4)
func.func @f(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %sq = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %skv = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %skv : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %skv : tensor<1x4x64x16xf32>
  // expected-error @+1 {{grid axis 1 of @g has size 4 but no dimension is split over it; the work would be replicated 4 times. Give that axis size 1 or split a dimension over it}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
