shard.grid @a(shape = 2)
shard.grid @b(shape = 2)
func.func @f(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %sq = shard.sharding @a split_axes = [[], [], [0]] : !shard.sharding
  %skv = shard.sharding @b split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %skv : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %skv : tensor<1x4x64x16xf32>
  // expected-error @+1 {{query is sharded on grid @a but key on grid @b; query, key and value must use one grid}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
