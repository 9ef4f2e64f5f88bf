shard.grid @ring3(shape = 3)
func.func @f(%q: tensor<1x2x100x16xf32>, %k: tensor<1x2x100x16xf32>, %v: tensor<1x2x100x16xf32>) -> (tensor<1x2x100x16xf32>, tensor<1x2x100xf32>) {
  %sq = shard.sharding @ring3 split_axes = [[], [], [0]] : !shard.sharding
  %skv = shard.sharding @ring3 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x2x100x16xf32>
  %k1 = shard.shard %k to %skv : tensor<1x2x100x16xf32>
  %v1 = shard.shard %v to %skv : tensor<1x2x100x16xf32>
  // expected-error @+1 {{sequence length 100 is not divisible by the ring size 3; valid lengths near it: 99 or 102}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32> -> tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
}
