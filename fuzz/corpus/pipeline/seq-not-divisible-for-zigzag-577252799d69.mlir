shard.grid @ring4(shape = 4)
func.func @f(%q: tensor<1x2x100x16xf32>, %k: tensor<1x2x100x16xf32>, %v: tensor<1x2x100x16xf32>) -> (tensor<1x2x100x16xf32>, tensor<1x2x100xf32>) {
  %sq = shard.sharding @ring4 split_axes = [[], [], [0]] : !shard.sharding
  %skv = shard.sharding @ring4 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %sq : tensor<1x2x100x16xf32>
  %k1 = shard.shard %k to %skv : tensor<1x2x100x16xf32>
  %v1 = shard.shard %v to %skv : tensor<1x2x100x16xf32>
  // expected-error @+1 {{sequence length 100 is not divisible by 2·ring = 8, which the zigzag layout needs (it cuts the sequence into 2·ring chunks); valid lengths near it: 96 or 104}}
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32> -> tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
}
