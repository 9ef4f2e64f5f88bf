shard.grid @g(shape = 3)
func.func @f(%q: tensor<1x2x64x64xf32>, %k: tensor<1x2x64x64xf32>, %v: tensor<1x2x64x64xf32>) -> (tensor<1x2x64x64xf32>, tensor<1x2x64xf32>) {
  %sq = shard.sharding @g split_axes = [[], [], [], [0]] : !shard.sharding
  %skv = shard.sharding @g split_axes = [[], [], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x2x64x64xf32>
  %k1 = shard.shard %k to %skv : tensor<1x2x64x64xf32>
  %v1 = shard.shard %v to %skv : tensor<1x2x64x64xf32>
  // expected-error @+1 {{head_dim (64) is not divisible by dim_slices (3); valid dim_slices divide 64: 1, 2, 4, 8, 16, 32, 64}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x2x64x64xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x64xf32>, tensor<1x2x64xf32>
}
