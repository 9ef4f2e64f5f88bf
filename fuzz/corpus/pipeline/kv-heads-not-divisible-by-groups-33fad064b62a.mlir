shard.grid @g(shape = 4)
func.func @f(%q: tensor<1x8x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>) {
  %sq = shard.sharding @g split_axes = [[], [0]] : !shard.sharding
  %skv = shard.sharding @g split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x8x64x16xf32>
  %k1 = shard.shard %k to %skv : tensor<1x2x64x16xf32>
  %v1 = shard.shard %v to %skv : tensor<1x2x64x16xf32>
  // expected-error @+1 {{key/value heads (2) are not divisible by head_groups (4); valid head_groups divide both query heads (8) and key/value heads (2): 1, 2}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x8x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x64x16xf32>, tensor<1x8x64xf32>
  return %o, %lse : tensor<1x8x64x16xf32>, tensor<1x8x64xf32>
}
